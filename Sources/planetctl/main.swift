import Foundation
import PlanetCore
import PlanetRuntime
#if canImport(Glibc)
import Glibc
#endif

// planetctl: inspects and steers a running planetd through its admin socket.

let usage = """
usage: planetctl [--socket PATH] [--json] COMMAND

commands (the admin API arrives with the running node; see Docs/cli.md):
  self                 this node's key, address, subnet, version and uptime
  peers                linked peers
  peers add URI        add a peer at runtime (udp://HOST:PORT[?key=HEX])
  peers remove URI     remove a peer
  routes               the routing table
  sessions             end-to-end sessions
  stats                traffic and drop counters

options:
  --socket PATH        admin socket (default /run/planetary/planetd.sock)
  --json               print JSON instead of tables
  --help, --version
"""

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(("planetctl: " + message + "\n").data(using: .utf8)!)
    exit(code)
}

let args: Arguments
do { args = try Arguments(Array(CommandLine.arguments.dropFirst()), valued: ["socket"], flags: ["json", "help", "version"]) } catch {
    fail(error.description)
}
if args.has("version") { print("planetctl \(PlanetVersion.string)"); exit(0) }
if args.has("help") || args.positionals.isEmpty { print(usage); exit(args.has("help") ? 0 : 2) }
fail("'\(args.positionals[0])': the admin API is not implemented in this version", code: 1)
