/// Aligned text tables: a header row, columns separated by two spaces, numbers right-aligned,
/// no trailing spaces. Widths count characters, so `…` in a shortened key takes one column.
public struct TableFormatter {
    public enum Alignment: Sendable { case left, right }

    public struct Column: Sendable {
        public let title: String
        public let alignment: Alignment
        public init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    public let columns: [Column]
    public private(set) var rows: [[String]] = []

    public init(_ columns: [Column]) { self.columns = columns }

    /// Missing cells print as empty; extra cells are ignored.
    public mutating func append(_ row: [String]) {
        rows.append((0..<columns.count).map { $0 < row.count ? row[$0] : "" })
    }

    public func render() -> String {
        let all = [columns.map(\.title)] + rows
        var widths = columns.map { _ in 0 }
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in all {
            var line = ""
            for (i, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[i] - cell.count)
                if i > 0 { line += "  " }
                line += columns[i].alignment == .right ? padding + cell : cell + padding
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// `label  value` lines with the labels padded to one width, for single records.
    public static func keyValues(_ pairs: [(String, String)]) -> String {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { k, v in
            let line = k + String(repeating: " ", count: width - k.count) + "  " + v
            return String(line.reversed().drop(while: { $0 == " " }).reversed()) + "\n"
        }.joined()
    }
}
