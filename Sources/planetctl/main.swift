import Foundation
import PlanetCore
import PlanetControl
import PlanetRuntime
#if canImport(Glibc)
import Glibc
#endif

// planetctl: inspects and steers a running planetd through its admin socket.
// Command parsing and the tables live in PlanetControl (planetd does not link them), the
// client next to the server it talks to in PlanetRuntime/Admin; both are unit-tested.

let usage = """
usage: planetctl [--socket PATH] [--json] COMMAND

commands:
  self                 this node's key, address, subnet, version and uptime
  peers                peers and their link state
  peers add URI        add a peer now (udp://HOST:PORT[?key=HEX]); not kept across restarts
  peers remove URI     remove a peer now; not kept across restarts
  routes               the routing table
  sessions             end-to-end sessions
  stats                traffic, drop and handshake counters
  vm [list]            VMs and containers this node hosts: address, interface, policy, state, traffic
  vm show NAME         one VM in detail
  vm attach NAME (--tap IFNAME [--owner USER] | --netns NS) [--address ADDR] [--allow RULE]...
                       [--cpu N] [--memory SIZE] [--disk SIZE]
                       give a VM (a tap for qemu) or a container (a veth into its namespace) an
                       overlay address from this node's /64; RULE: any (default), key:HEX,
                       tcp:PORT, udp:PORT, or a combination like key:HEX,tcp:22
  vm policy NAME --allow RULE...   replace a VM's inbound rules, live
  vm detach NAME       remove its interface, routes, filter and lease
  vm cloud-init NAME   the NoCloud network-config (v2) for the guest on that tap
  nodes                every capacity record this node holds, with its age
  nodes show KEY|ADDRESS
                       one capacity record
  nodes find [FILTERS] nodes with the capacity asked for, nearest (lowest route metric) first:
      --free-mru SIZE --free-sru SIZE --free-hru SIZE   free memory / SSD / HDD, sizes as 512M, 16G, 2T
      --total-cru N --country CC --city NAME --farm ID[,ID...] --tag T
      --ipv4 --ipv6 --gpu [VENDOR] --reachable
      --near LAT,LON [--radius KM]
      --sort free-mru|free-sru|free-hru|cru|distance|rtt|age --order asc|desc --limit N

options:
  --socket PATH        admin socket (default $PLANETCTL_SOCKET, else /run/planetary/planetd.sock)
  --json               print the daemon's reply as JSON instead of a table
  --help, --version

exit codes: 0 success, 1 the daemon failed or could not be reached, 2 bad usage
"""

// Before anything is written: `planetctl peers | head -1` must not kill planetctl
// (StandardStreams.swift); every line below goes through StandardStreams, not print.
StandardStreams.ignoreBrokenPipe()

func fail(_ message: String, code: Int32) -> Never {
    StandardStreams.err("planetctl: " + message + "\n")
    exit(code)
}

// `nodes find` has options of its own: everything after `nodes` is the command's (and --json
// among them is still the global flag). Only when `nodes` is the command itself, the first word
// that is no option: `vm attach nodes …` names a VM.
var words = Array(CommandLine.arguments.dropFirst())
var nodesTail: [String] = []
var firstCommandWord = 0
while firstCommandWord < words.count, words[firstCommandWord].hasPrefix("--") {
    firstCommandWord += words[firstCommandWord] == "--socket" ? 2 : 1
}
if firstCommandWord < words.count, ["nodes", "node"].contains(words[firstCommandWord]) {
    let i = firstCommandWord
    nodesTail = Array(words[(i + 1)...])
    words = Array(words[...i])
    if nodesTail.contains("--json") { words.append("--json"); nodesTail.removeAll { $0 == "--json" } }
}
let args: Arguments
do { args = try Arguments(words, valued: Set(["socket"] + PlanetctlCommand.vmOptionNames), flags: ["json", "help", "version"]) } catch {
    fail(error.description, code: 2)
}
if args.has("version") { StandardStreams.out("planetctl \(PlanetVersion.string)" + "\n"); exit(0) }
if args.has("help") { StandardStreams.out(usage + "\n"); exit(0) }
if args.positionals.isEmpty { StandardStreams.err(usage + "\n"); exit(2) }

let command: PlanetctlCommand
var vmOptions: [String: [String]] = [:]
for name in PlanetctlCommand.vmOptionNames { vmOptions[name] = args.values(name) }
switch PlanetctlCommand.parse(args.positionals + nodesTail, options: vmOptions) {
case .success(let c): command = c
case .failure(let e): fail(e.description, code: 2)
}

let socketPath = args.value("socket") ?? AdminClient.defaultSocketPath(environment: ProcessInfo.processInfo.environment)
let client = AdminClient(socketPath: socketPath)
do {
    let response = try client.call(command.call.rawValue, arguments: command.arguments)
    let output = args.has("json") ? AdminReport.json(response) : AdminReport.table(for: command, response: response)
    StandardStreams.out(output)
} catch AdminClientError.daemon(let message) where command.isUsageRefusal(message) {
    fail(message, code: 2)
} catch {
    fail(error.description, code: 1)
}
