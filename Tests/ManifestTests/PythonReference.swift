import TestSupport

extension PythonReference {
    /// SPEC §3's reference: sha384(cbor2.dumps(tomllib.load(f), canonical=True)), one per file.
    static func manifestDigests(_ paths: [String]) throws -> [String] {
        let script = """
            import sys, tomllib, hashlib, cbor2
            for path in sys.argv[1:]:
                with open(path, "rb") as f:
                    print("sha384:" + hashlib.sha384(cbor2.dumps(tomllib.load(f), canonical=True)).hexdigest())
            """
        return try run(script, paths).split(separator: "\n").map(String.init)
    }
}
