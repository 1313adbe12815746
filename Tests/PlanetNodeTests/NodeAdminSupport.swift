import PlanetCore
import PlanetAdmin
import PlanetNode

/// A node's admin answer as the JSON the socket would carry (its reply through the real
/// encoder), for tests that read the documented field names.
func adminJSON(_ node: Node, _ request: AdminRequest, now: Instant) -> Result<JSONValue, AdminError> {
    node.admin(request, now: now).flatMap { reply in
        Result { try JSONValueCoder.encode(reply) }.mapError { AdminError("cannot write the reply: \($0)") }
    }
}
