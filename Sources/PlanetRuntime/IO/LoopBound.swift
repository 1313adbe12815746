/// Carries a loop-owned value through another thread back to the loop. Only sound when
/// the value is used solely on the loop thread, which is why it is internal.
struct LoopBound<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
