import FluentKit
import SQLKit

/// The schema, version 1. Later versions add migrations; none is ever edited after release.
struct CreateSchemaV1: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("contracts").id()
            .field("contract_id", .string, .required).unique(on: "contract_id")
            .field("company_name", .string, .required).field("branch", .string, .required)
            .field("administrator_name", .string, .required).field("status", .string, .required)
            .field("locked_at", .datetime).field("version", .int, .required)
            .field("created_at", .datetime, .required).create()
        try await database.schema("holders").id()
            .field("role", .string, .required).field("scope", .string, .required)
            .field("login_id", .string, .required).field("name", .string, .required)
            .field("pin_hash", .string).field("confirmation_pin_hash", .string)
            .field("failure_count", .int, .required).field("locked_at", .datetime)
            .field("must_change_pin", .bool, .required).field("acquisition_open_until", .datetime)
            .field("acquisition_code_hash", .string).field("card_challenge", .string).field("deleted_at", .datetime)
            .field("created_at", .datetime, .required)
            .unique(on: "scope", "login_id").create()
        try await database.schema("certificates").id()
            .field("serial", .string, .required).unique(on: "serial")
            .field("holder_id", .uuid, .required, .references("holders", "id"))
            .field("der", .data, .required).field("not_before", .datetime, .required)
            .field("not_after", .datetime, .required)
            .field("spki_hash", .string, .required).unique(on: "spki_hash")
            .field("fingerprint", .string, .required).unique(on: "fingerprint")
            .field("status", .string, .required).field("revoked_at", .datetime)
            .field("revocation_reason", .int).field("created_at", .datetime, .required).create()
        try await database.schema("crl_state").field("id", .int, .identifier(auto: false))
            .field("number", .int, .required).field("der", .data, .required)
            .field("this_update", .datetime, .required).create()
        try await database.schema("sessions").id()
            .field("token_hash", .string, .required).unique(on: "token_hash")
            .field("holder_id", .uuid).field("certificate_fingerprint", .string, .required)
            .field("stage", .string, .required).field("csrf_token", .string, .required)
            .field("idle_timeout", .double, .required)
            .field("created_at", .datetime, .required).field("last_seen_at", .datetime, .required).create()
        try await database.schema("audit_events").field("seq", .int, .identifier(auto: false))
            .field("at_ms", .int64, .required).field("actor", .string, .required)
            .field("action", .string, .required).field("target", .string, .required)
            .field("outcome", .string, .required).field("client_address", .string, .required)
            .field("certificate_serial", .string, .required).field("previous_hash", .string, .required)
            .field("hash", .string, .required).create()
        try await database.schema("branch_requests").id()
            .field("contract_id", .string, .required).field("kind", .string, .required)
            .field("status", .string, .required).field("recorded_by", .string, .required)
            .field("decided_by", .string).field("contract_version", .int, .required)
            .field("lost_card", .bool, .required)
            .field("created_at", .datetime, .required).field("decided_at", .datetime).create()
        try await database.schema("branch_request_events").id()
            .field("request_id", .uuid, .required, .references("branch_requests", "id"))
            .field("at", .datetime, .required).field("staff_id", .string, .required)
            .field("action", .string, .required).create()
        try await database.schema("customer_cards").id()
            .field("contract_id", .string, .required).field("grid_ciphertext", .data, .required)
            .field("card_number", .string, .required).unique(on: "card_number")
            .field("status", .string, .required).field("issued_at", .datetime, .required)
            .field("sent_at", .datetime).field("invalidated_at", .datetime).create()
    }

    func revert(on database: any Database) async throws {
        for table in ["customer_cards", "branch_request_events", "branch_requests", "audit_events", "sessions", "crl_state", "certificates", "holders", "contracts"] {
            try await database.schema(table).delete()
        }
    }
}

/// Version 2: acquisition failures counted against the window (not the logon lock), sessions
/// ended with a reason (a lock, a PIN change or a revocation ends them at their next request),
/// and rate buckets shared by every server process on the database.
struct CreateSchemaV2: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("holders")
            .field("acquisition_failures", .int, .required, .sql(.default(0))).update()
        try await database.schema("sessions").field("ended_reason", .string).update()
        try await database.schema("rate_buckets")
            .field("bucket", .string, .identifier(auto: false))
            .field("window_start", .int64, .required).field("count", .int, .required).create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("rate_buckets").delete()
        try await database.schema("sessions").deleteField("ended_reason").update()
        try await database.schema("holders").deleteField("acquisition_failures").update()
    }
}

/// Version 3: dual control in the branch. A branch request may concern a staff member (its
/// subject) with the change it proposes (details); the recorder's half of a split one-time code
/// is kept as a keyed hash; an onboarding request carries the hashes of the provisional PINs the
/// customer wrote on the paper application; a refusal keeps its reason. Counters hand out
/// numbers (staff IDs) that concurrent inserts cannot collide on.
struct CreateSchemaV3: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        for field in ["subject", "details", "code_half_hash", "pin_hash", "confirmation_pin_hash", "refusal_reason"] {
            try await database.schema("branch_requests").field(.string(field), .string).update()
        }
        try await database.schema("counters")
            .field("name", .string, .identifier(auto: false)).field("value", .int, .required).create()
        // Staff IDs already handed out stay taken: the counter starts at their number.
        let staff = try await HolderModel.query(on: database).filter(\.$scope == "bank").count()
        try await CounterModel(name: "staff", value: staff).create(on: database)
    }

    func revert(on database: any Database) async throws {
        try await database.schema("counters").delete()
        for field in ["refusal_reason", "confirmation_pin_hash", "pin_hash", "code_half_hash", "details", "subject"] {
            try await database.schema("branch_requests").deleteField(.string(field)).update()
        }
    }
}

/// Version 4: the database records the fingerprints of the CA and the secrets it was made with,
/// so that a start with another CA, pepper or card key refuses instead of corrupting it.
struct CreateSchemaV4: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("key_bindings")
            .field("name", .string, .identifier(auto: false)).field("fingerprint", .string, .required)
            .field("recorded_at", .datetime, .required).create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("key_bindings").delete()
    }
}

/// Version 5: background work that several server processes on one database share (the session
/// purge, CRL refresh) is claimed per run through one row per job, so it runs once across
/// instances (`Store.claimDueJob`).
struct CreateSchemaV5: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("scheduled_jobs")
            .field("name", .string, .identifier(auto: false)).field("due_at", .datetime, .required).create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("scheduled_jobs").delete()
    }
}

/// Version 6: the indexes the load benchmark showed missing at 10^6 certificates. A logon looked
/// up a holder's certificates by `holder_id` with a scan of the whole table (p50 95 ms at 10^3
/// holders, 464 ms at 10^6); the CRL filtered on `status` the same way; revocation and the
/// administrator's actions end sessions by certificate fingerprint and by holder.
struct CreateSchemaV6: AsyncMigration {
    static let indexes: [(name: String, table: String, column: String)] = [
        ("certificates_holder_id", "certificates", "holder_id"),
        ("certificates_status", "certificates", "status"),
        ("sessions_holder_id", "sessions", "holder_id"),
        ("sessions_certificate_fingerprint", "sessions", "certificate_fingerprint"),
    ]

    func prepare(on database: any Database) async throws {
        let sql = try Store.sql(database)
        for index in Self.indexes {
            try await sql.create(index: index.name).on(index.table).column(index.column).run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = try Store.sql(database)
        for index in Self.indexes { try await sql.drop(index: index.name).run() }
    }
}
