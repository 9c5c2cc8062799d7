import ArgumentParser
import Foundation
import TwoCVM

/// The policy flags of SPEC §6, shared by `twocvm report verify` and `twocvm verify`
/// (`@OptionGroup var policy: PolicyOptions`). Defaults are the safe ones; each flag relaxes or
/// tightens one check (Docs/verification.md).
struct PolicyOptions: ParsableArguments {
    @Flag(name: .customLong("allow-debug"), help: "Accept a guest policy that allows debugging (default: denied).")
    var allowDebug = false

    @Flag(name: .customLong("allow-migration-agent"), help: "Accept a guest policy that allows a migration agent (default: denied).")
    var allowMigrationAgent = false

    @Flag(name: .customLong("deny-smt"), help: "Refuse a guest policy that allows SMT (default: allowed).")
    var denySMT = false

    @Flag(name: .customLong("require-single-socket"), help: "Require the SINGLE_SOCKET guest policy bit.")
    var requireSingleSocket = false

    @Flag(name: .customLong("allow-cxl"), help: "Accept a guest policy that allows CXL (default: denied).")
    var allowCXL = false

    @Flag(name: .customLong("allow-provisional"), help: "Accept provisional firmware: COMMITTED below CURRENT TCB/version (default: must be equal).")
    var allowProvisional = false

    @Option(name: .customLong("min-tcb"), help: ArgumentHelp("Minimum REPORTED_TCB, component-wise.", valueName: "bl=N,tee=N,snp=N,ucode=N[,fmc=N]"))
    var minimumTCB: String?

    @Option(name: .customLong("min-abi"), help: ArgumentHelp("Minimum firmware ABI version.", valueName: "MAJOR.MINOR"))
    var minimumABI: String?

    @Option(name: .customLong("vmpl"), help: ArgumentHelp("Required VMPL, 0-3 (default: any).", valueName: "N"))
    var vmpl: UInt32?

    @Option(name: .customLong("measurement"), help: ArgumentHelp("Required MEASUREMENT (48 bytes).", valueName: "HEX"))
    var measurement: String?

    @Option(name: .customLong("host-data"), help: ArgumentHelp("Required HOST_DATA (32 bytes).", valueName: "HEX"))
    var hostData: String?

    @Option(name: .customLong("report-data"), help: ArgumentHelp("Required REPORT_DATA (64 bytes).", valueName: "HEX"))
    var reportData: String?

    @Option(name: .customLong("family-id"), help: ArgumentHelp("Required FAMILY_ID (16 bytes).", valueName: "HEX"))
    var familyID: String?

    @Option(name: .customLong("image-id"), help: ArgumentHelp("Required IMAGE_ID (16 bytes).", valueName: "HEX"))
    var imageID: String?

    @Flag(name: .customLong("require-id-block"), help: "Require a launch with an ID block (ID_KEY_DIGEST non-zero).")
    var requireIDBlock = false

    @Option(name: .customLong("at"), help: ArgumentHelp("Verify as of this time (go-sev-guest's \"current time\" option): every certificate must be valid at it (default: now).", valueName: "RFC3339"))
    var at: String?

    mutating func validate() throws {
        _ = try validationOptions()
    }

    /// The options as the SNP library takes them; throws `ValidationError` (exit 2) naming the
    /// flag whose value is malformed.
    func validationOptions() throws -> ValidationOptions {
        var options = ValidationOptions()
        options.allowDebug = allowDebug
        options.allowMigrationAgent = allowMigrationAgent
        options.denySMT = denySMT
        options.requireSingleSocket = requireSingleSocket
        options.allowCXL = allowCXL
        options.allowProvisional = allowProvisional
        options.requireIDBlock = requireIDBlock
        if let minimumTCB { options.minimumTCB = try Self.parseTCB(minimumTCB) }
        if let minimumABI {
            guard let version = ABIVersion(minimumABI) else {
                throw ValidationError("--min-abi must be MAJOR.MINOR with each part 0-255, e.g. 1.55; got \"\(minimumABI)\"")
            }
            options.minimumABI = version
        }
        if let vmpl {
            guard vmpl <= 3 else { throw ValidationError("--vmpl must be 0, 1, 2 or 3; got \(vmpl)") }
            options.vmpl = vmpl
        }
        options.measurement = try Self.field(measurement, flag: "--measurement", as: SNP.Measurement.self)
        options.hostData = try Self.field(hostData, flag: "--host-data", as: HostData.self)
        options.reportData = try Self.field(reportData, flag: "--report-data", as: ReportData.self)
        options.familyID = try Self.field(familyID, flag: "--family-id", as: FamilyID.self)
        options.imageID = try Self.field(imageID, flag: "--image-id", as: ImageID.self)
        if let at { options.at = try Self.parseTime(at) }
        return options
    }

    /// Parses a `--min-tcb` value (SNP's parser, shared with `launch-measure`); a value that
    /// does not parse is a usage error naming the part at fault.
    static func parseTCB(_ text: String) throws(ValidationError) -> TCBParts {
        do { return try TCBParts(parsing: text) } catch { throw ValidationError(error.description) }
    }

    /// Parses an RFC 3339 time such as `2025-06-01T00:00:00Z` (fractional seconds allowed).
    static func parseTime(_ text: String) throws -> Date {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? fractional.parse(text) { return date }
        throw ValidationError("--at must be an RFC 3339 time such as 2025-06-01T00:00:00Z; got \"\(text)\"")
    }

    private static func field<Field: ReportByteField>(_ text: String?, flag: String, as type: Field.Type) throws -> Field? {
        guard let text else { return nil }
        guard let bytes = Hex.decode(input: text) else { throw ValidationError("\(flag) must be hex; got \"\(text)\"") }
        guard let value = Field(bytes: bytes) else {
            throw ValidationError("\(flag) must be \(Field.byteCount) bytes (\(2 * Field.byteCount) hex digits); got \(bytes.count) bytes")
        }
        return value
    }
}
