import Foundation
import XCTest

/// Runs a command for a test and returns (status, combined output).
@discardableResult
func runCommand(_ path: String, _ args: [String]) -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@discardableResult
func ip(_ args: String...) -> (status: Int32, output: String) { runCommand("/usr/sbin/ip", args) }

func randomInterfaceName(_ prefix: String) -> String {
    prefix + String(UInt32.random(in: 0..<0xffffff), radix: 16)
}

func isRoot() -> Bool { getuid() == 0 }
