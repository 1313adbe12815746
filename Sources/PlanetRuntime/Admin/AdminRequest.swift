import PlanetCore

/// One request line, checked: `{"request": NAME, ...arguments}`.
public struct AdminRequest: Equatable, Sendable {
    public let call: AdminCall
    /// The request object without its `"request"` key, in the order sent.
    public let arguments: JSONValue

    public init(call: AdminCall, arguments: JSONValue = .object([])) {
        self.call = call
        self.arguments = arguments
    }

    public static func parse(_ line: String) -> Result<AdminRequest, AdminError> {
        let doc: JSONValue
        do { doc = try JSONValue.parse(line, maxDepth: 16) } catch { return .failure(AdminError("malformed JSON: \(error.description)")) }
        guard let pairs = doc.objectValue else {
            return .failure(AdminError("a request must be a JSON object like {\"request\": \"getPeers\"}, got \(doc.typeName)"))
        }
        guard let nameValue = doc["request"] else { return .failure(AdminError("missing \"request\" (one of \(AdminCall.names.joined(separator: ", ")))")) }
        guard let name = nameValue.stringValue else { return .failure(AdminError("\"request\" must be a string, got \(nameValue.typeName)")) }
        guard let call = AdminCall(rawValue: name) else {
            return .failure(AdminError("unknown request '\(name)' (known: \(AdminCall.names.joined(separator: ", ")))"))
        }
        let arguments = pairs.filter { $0.0 != "request" }
        for (key, value) in arguments {
            guard call.stringArguments.contains(key) || call.optionalStringArguments.contains(key) else { return .failure(AdminError("\(name) takes no argument '\(key)'")) }
            guard value.stringValue != nil else { return .failure(AdminError("argument '\(key)' of \(name) must be a string, got \(value.typeName)")) }
        }
        for key in call.stringArguments where doc[key] == nil {
            return .failure(AdminError("\(name) needs the argument '\(key)'"))
        }
        return .success(AdminRequest(call: call, arguments: .object(arguments)))
    }

    /// The request as the line a client sends, newline included.
    public var line: String {
        var pairs: [(String, JSONValue)] = [("request", .string(call.rawValue))]
        pairs += arguments.objectValue ?? []
        return JSONValue.object(pairs).serialized() + "\n"
    }
}

/// Reply lines: `{"status":"success","response":{...}}` or `{"status":"error","error":"..."}`.
public enum AdminReply {
    public static func line(_ result: Result<JSONValue, AdminError>) -> String {
        switch result {
        case .success(let v): return JSONValue.object([("status", .string("success")), ("response", v)]).serialized() + "\n"
        case .failure(let e): return JSONValue.object([("status", .string("error")), ("error", .string(e.message))]).serialized() + "\n"
        }
    }

    /// Reads a reply line back; transport-level problems are `badResponse`.
    public static func parse(_ line: String) -> Result<JSONValue, AdminClientError> {
        let doc: JSONValue
        do { doc = try JSONValue.parse(line) } catch { return .failure(.badResponse("the daemon sent malformed JSON: \(error.description)")) }
        switch doc["status"]?.stringValue {
        case "success": return .success(doc["response"] ?? .object([]))
        case "error": return .failure(.daemon(doc["error"]?.stringValue ?? "unspecified error"))
        default: return .failure(.badResponse("the daemon's reply has no valid \"status\""))
        }
    }
}
