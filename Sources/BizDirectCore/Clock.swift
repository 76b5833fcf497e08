import Foundation

/// The source of "now"; injected so tests run at fixed times.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The real clock.
public struct SystemClock: WallClock {
    /// Makes the system clock.
    public init() {}
    public func now() -> Date { Date() }
}

/// The source of random bytes; injected so that the choice is visible in one place.
public protocol RandomSource: Sendable {
    /// `count` cryptographically strong random bytes.
    func bytes(_ count: Int) -> [UInt8]
}

/// Random bytes from the operating system's CSPRNG.
public struct SystemRandom: RandomSource {
    /// Makes the system random source.
    public init() {}
    public func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
