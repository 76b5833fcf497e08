/// Comparison of secrets without an early exit, so timing does not reveal where they differ.
public enum ConstantTime {
    /// True when `a` and `b` are byte-for-byte equal; the time taken depends only on the lengths.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = a.count == b.count ? 0 : 1
        for (x, y) in zip(a, b) { difference |= Int(x ^ y) }
        return difference == 0
    }
}
