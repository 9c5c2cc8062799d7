import CBOR
import COSE
import Evidence
import SNP
import Sandbox

/// The process exit statuses of SPEC §5, the same in every subcommand.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    /// A check failed: verification, lint findings, a missing approval, a lock or digest that
    /// does not match, a component that failed.
    case checkFailed = 1
    /// The input could not be used: unreadable, malformed, too large, wrong usage.
    case badInput = 2
    /// The environment is missing something: a device, a simulated VM, TEE keys, an engine
    /// library, a writable output.
    case environment = 3
}

/// An error a twocvm workflow throws: it says how the process ends (`exitStatus`) and what the
/// user reads (`description`, printed as `twocvm: error: <description>`). The CLI maps every
/// error with this protocol alone (`TwoCVMCommand.report`), never by the error's type.
public protocol TwoCVMError: Error, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
}

// The lower targets' errors, as they reach the CLI through a workflow. Their own targets know
// nothing of exit statuses (SPEC §2); the mapping lives here, next to the protocol.

extension GuestDeviceError: TwoCVMError {
    /// No device, no permission, a busy or failing firmware: the machine (3); a malformed
    /// answer or request: the input (2).
    public var exitStatus: ExitStatus { isEnvironmental ? .environment : .badInput }
}

extension EngineLibraryError: TwoCVMError {
    /// The wasmtime library is missing or is not the pinned build: the machine (3).
    public var exitStatus: ExitStatus { .environment }
}

extension CBORDecodingError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension COSEError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension EvidenceError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension SealError: TwoCVMError {
    /// Bad input, except when the machine could not allocate a context (the environment).
    public var exitStatus: ExitStatus {
        if case .outOfMemory = self { return .environment }
        return .badInput
    }
}
extension ReceiptError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension ReportError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension CertificateError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension ChainError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension VerificationInputError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension ReferenceValuesError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension LaunchMeasurementError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension SimulatorError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
extension SandboxError: TwoCVMError { public var exitStatus: ExitStatus { .badInput } }
