#if canImport(Glibc)
import Glibc
#endif
import PlanetFuzz
#if PLANET_LIBFUZZER
import CPlanetFuzzer
#endif

// planetfuzz: the decoder fuzz targets (Sources/PlanetFuzz), one binary for all of them.
//
//   planetfuzz list                          the targets, one per line
//   planetfuzz seeds DIR                     write the generated seeds to DIR/<target>/
//   planetfuzz TARGET FILE|DIR...            run each input once (any build): reproduce a
//                                            finding, or check a corpus still passes
//   planetfuzz TARGET [libFuzzer options] [CORPUS...]
//                                            coverage-guided fuzzing, only in the build
//                                            Tools/fuzz makes (-sanitize=fuzzer,address)

func warn(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func usage() -> Never {
    warn("usage: planetfuzz list | planetfuzz TARGET [FILE|DIR ...] (targets: \(FuzzTargets.all.map(\.name).joined(separator: ", ")))")
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { usage() }
if arguments[1] == "seeds", arguments.count == 3 {
    // Writes the generated seed corpus (FuzzSeeds) under DIR/<target>/seed-<name>.
    for (target, name, bytes) in FuzzSeeds.all() {
        let dir = arguments[2] + "/" + target
        mkdir(dir, 0o755)
        guard let f = fopen(dir + "/seed-" + name, "wb") else { warn("planetfuzz: cannot write \(dir)/seed-\(name)"); exit(1) }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
    exit(0)
}
if arguments[1] == "list" {
    for target in FuzzTargets.all { print("\(target.name)\t\(target.summary)") }
    exit(0)
}
// libFuzzer's -jobs starts copies of this program without the target's name: those find it
// in PLANET_FUZZ_TARGET (Tools/fuzz sets it).
let fromEnvironment = getenv("PLANET_FUZZ_TARGET").map { String(cString: $0) }
let named = FuzzTargets.named(arguments[1])
let targetArgumentCount = named == nil && fromEnvironment != nil ? 1 : 2
guard let target = named ?? fromEnvironment.flatMap(FuzzTargets.named) else {
    warn("planetfuzz: unknown target '\(arguments[1])'")
    usage()
}

#if PLANET_LIBFUZZER
nonisolated(unsafe) var selected: FuzzTarget? = target

/// libFuzzer's own entry point, for the case its `main` is the one linked: the target then
/// comes from PLANET_FUZZ_TARGET (Tools/fuzz sets it as well as passing the name).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if selected == nil, let name = getenv("PLANET_FUZZ_TARGET") { selected = FuzzTargets.named(String(cString: name)) }
    selected!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// libFuzzer sees argv without the target name.
var argv: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + arguments.dropFirst(targetArgumentCount)).map { strdup($0) } + [nil]
var argc = CInt(argv.count - 1)
let status = argv.withUnsafeMutableBufferPointer { buffer -> CInt in
    var base = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &base) { data, size in
        selected!.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}
exit(status)
#else
let inputs = try FuzzCorpus.files(arguments.dropFirst(targetArgumentCount))
for path in inputs {
    try FuzzCorpus.read(path).withUnsafeBytes { target.run($0) }
}
print("planetfuzz \(target.name): \(inputs.count) inputs, no crash")
#endif
