import PlanetCore

/// Reply lines: `{"status":"success","response":{...}}` or
/// `{"status":"error","error":"...","kind":"argument","argument":"address"}` (Docs/cli.md).
public enum AdminReply {
    public static func line(_ result: Result<JSONValue, AdminError>) -> String {
        switch result {
        case .success(let v): return JSONValue.object([("status", .string("success")), ("response", v)]).serialized() + "\n"
        case .failure(let e):
            var fields: [(String, JSONValue)] = [("status", .string("error")), ("error", .string(e.message)), ("kind", .string(e.kind.rawValue))]
            if let a = e.argument { fields.append(("argument", .string(a))) }
            return JSONValue.object(fields).serialized() + "\n"
        }
    }

    /// Reads a reply line back; transport-level problems are `badResponse`. An error reply
    /// from a daemon that predates `kind` is a failure of the node.
    public static func parse(_ line: String) -> Result<JSONValue, AdminClientError> {
        let doc: JSONValue
        do { doc = try JSONValue.parse(line) } catch { return .failure(.badResponse("the daemon sent malformed JSON: \(error.description)")) }
        switch doc["status"]?.stringValue {
        case "success": return .success(doc["response"] ?? .object([]))
        case "error":
            let kind = doc["kind"]?.stringValue.flatMap(AdminError.Kind.init(rawValue:)) ?? .node
            return .failure(.daemon(AdminError(doc["error"]?.stringValue ?? "unspecified error", kind: kind, argument: doc["argument"]?.stringValue)))
        default: return .failure(.badResponse("the daemon's reply has no valid \"status\""))
        }
    }
}
