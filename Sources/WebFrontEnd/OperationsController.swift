import Foundation
import Hummingbird
import RegistrationAuthority

/// What the operations listener asks of the RA: only whether this instance is ready.
public protocol ReadinessReporting: Sendable {
    /// The database, CA and CRL checks (`RegistrationAuthority.readiness`).
    func readiness() async -> Readiness
}

extension RegistrationAuthority: ReadinessReporting {}

/// The operations listener (plain HTTP, loopback by default, never a customer-facing port):
/// `/health/live` answers while the process serves; `/health/ready` answers 200 when the
/// database answers, the CA is valid and the CRL is fresh, else 503, with a small JSON body
/// naming what failed. Load balancers send traffic by `/health/ready` (deploy/haproxy.cfg).
struct OperationsController<Health: ReadinessReporting> {
    let health: Health

    func register(on router: Router<BizDirectRequestContext>) {
        router.get("/health/live") { _, _ in Self.json(.ok, ["status": "live"]) }
        router.get("/health/ready") { _, _ in
            let readiness = await health.readiness()
            guard readiness.isReady else {
                let failed = Dictionary(uniqueKeysWithValues: readiness.failed.map { ($0.key.rawValue, $0.value) })
                return Self.json(.serviceUnavailable, ["status": "not ready", "failed": failed])
            }
            return Self.json(.ok, ["status": "ready"])
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: [String: any Sendable]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
