import BizDirectCore
import FluentKit
import Foundation
import SQLKit

extension Store {
    /// Binds the database to `fingerprint` under `name` when it holds no binding for it yet, and
    /// returns the binding that stands: the given one, or the one recorded earlier. Two instances
    /// binding at once both get the first one's (the insert is conditional).
    public func bindKey(_ name: String, fingerprint: String, at time: Date) async throws -> String {
        try await sql.raw("""
            INSERT INTO key_bindings (name, fingerprint, recorded_at) VALUES (\(bind: name), \(bind: fingerprint), \(bind: time))
            ON CONFLICT (name) DO NOTHING
            """).run()
        guard let stored = try await KeyBindingModel.find(name, on: database) else {
            throw BizDirectError.internal("storage.keyBinding", "The key binding \(name) could not be read.")
        }
        return stored.fingerprint
    }

    /// Records `fingerprint` under `name`, replacing any earlier one (a ceremony's new issuing CA,
    /// a renewed OCSP or TLS certificate).
    public func recordKey(_ name: String, fingerprint: String, at time: Date) async throws {
        try await sql.raw("""
            INSERT INTO key_bindings (name, fingerprint, recorded_at) VALUES (\(bind: name), \(bind: fingerprint), \(bind: time))
            ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, recorded_at = excluded.recorded_at
            """).run()
    }

    /// Every binding, by name.
    public func keyBindings() async throws -> [String: String] {
        Dictionary(try await KeyBindingModel.query(on: database).all().compactMap { row in row.id.map { ($0, row.fingerprint) } },
                   uniquingKeysWith: { first, _ in first })
    }

    /// Whether the database already holds certificates or holders, which a new CA or new
    /// secrets would orphan.
    public func holdsIssuedData() async throws -> Bool {
        if try await CertificateModel.query(on: database).count() > 0 { return true }
        return try await HolderModel.query(on: database).count() > 0
    }
}
