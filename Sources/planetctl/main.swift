import Foundation
import PlanetCore
import PlanetAdmin
import PlanetControl
#if canImport(Glibc)
import Glibc
#endif

// planetctl: inspects and steers a running planetd through its admin socket.
// Command parsing, the tables and how a failure is reported live in PlanetControl (planetd
// does not link them), the protocol and its client in PlanetAdmin; all are unit-tested.

// The overview and every command's help: PlanetControl/PlanetctlHelp.swift.

// Before anything is written: `planetctl peers | head -1` must not kill planetctl
// (StandardStreams.swift); every line below goes through StandardStreams, not print.
StandardStreams.ignoreBrokenPipe()

// With --json a failure is a JSON object on stdout too (Docs/cli.md); it is looked for in the
// raw words, since a failure may come before the options are read.
let wantsJSON = CommandLine.arguments.dropFirst().contains("--json")

func fail(_ failure: PlanetctlFailure) -> Never {
    if wantsJSON { StandardStreams.out(failure.json) } else { StandardStreams.err(failure.line) }
    exit(failure.exitCode)
}

func fail(_ usage: PlanetctlCommand.UsageError) -> Never { fail(PlanetctlFailure(usage)) }

// `nodes find` has options of its own: everything after `nodes` is the command's (and --json
// among them is still the global flag). Only when `nodes` is the command itself, the first word
// that is no option: `vm attach nodes …` names a VM.
var words = Array(CommandLine.arguments.dropFirst())
var nodesTail: [String] = []
var firstCommandWord = 0
while firstCommandWord < words.count, words[firstCommandWord].hasPrefix("--") {
    firstCommandWord += words[firstCommandWord] == "--socket" ? 2 : 1
}
if firstCommandWord < words.count, words[firstCommandWord] == "nodes" {
    let i = firstCommandWord
    nodesTail = Array(words[(i + 1)...])
    words = Array(words[...i])
    for flag in ["--json", "--help", "-h"] where nodesTail.contains(flag) { words.append(flag); nodesTail.removeAll { $0 == flag } }
}
let args: Arguments
do { args = try Arguments(words, valued: Set(["socket"] + PlanetctlCommand.vmOptionNames), flags: Set(["json", "help", "version"] + PlanetctlCommand.vmFlagNames)) } catch {
    fail(PlanetctlFailure(kind: .argument, message: error.description))
}
if args.has("version") { StandardStreams.out("planetctl \(PlanetVersion.string)\n"); exit(0) }
// `--help` after a command is that command's help (`planetctl vm attach --help`); a word that
// names no command is refused there as anywhere else (exit 2).
if args.has("help") {
    switch PlanetctlHelp.text(for: args.positionals + nodesTail.filter { !$0.hasPrefix("-") }) {
    case .success(let text): StandardStreams.out(text + "\n"); exit(0)
    case .failure(let e): fail(e)
    }
}
if args.positionals.isEmpty {
    // People get the overview; a script asking for JSON gets the one error object.
    if wantsJSON { fail(PlanetctlFailure(kind: .argument, message: "missing command; see planetctl --help")) }
    StandardStreams.err(PlanetctlHelp.usage + "\n")
    exit(2)
}

let command: PlanetctlCommand
var vmOptions: [String: [String]] = [:]
for name in PlanetctlCommand.vmOptionNames { vmOptions[name] = args.values(name) }
for name in PlanetctlCommand.vmFlagNames where args.has(name) { vmOptions[name] = ["true"] }
switch PlanetctlCommand.parse(args.positionals + nodesTail, options: vmOptions) {
case .success(let c): command = c
case .failure(let e): fail(e)
}

let socketPath = args.value("socket") ?? AdminClient.defaultSocketPath(environment: ProcessInfo.processInfo.environment)
let client = AdminClient(socketPath: socketPath)
let response: JSONValue
do {
    response = try client.call(command.request)
} catch {
    // By the error's kind: a refused argument exits 2, a failure of the node 1.
    fail(PlanetctlFailure(error))
}
if args.has("json") {
    // The reply as received: a newer daemon's extra fields reach the script too.
    StandardStreams.out(AdminReport.json(response))
} else {
    do {
        StandardStreams.out(try AdminReport.table(for: command, response: response))
    } catch {
        fail(PlanetctlFailure(.badResponse("planetd's reply to \(command.request.call.rawValue) does not read: \(error.description)")))
    }
}
for warning in AdminReport.warnings(for: command, response: response) { StandardStreams.err("planetctl: warning: \(warning)\n") }
