/// Page texts in Japanese and English. Keys are shared by the templates (`{{t.key}}`) and by
/// error reasons (`error.<reason>`), so the customer sees every message in their language.
enum Strings {
    static func table(_ language: Language) -> [String: String] {
        language == .ja ? ja : en
    }

    /// The table as nested dictionaries, so that templates can write `{{t.top.title}}`.
    static func nested(_ language: Language) -> [String: Any] {
        nest(table(language))
    }

    private static func nest(_ flat: [String: String]) -> [String: Any] {
        var root: [String: Any] = [:]
        for (key, value) in flat { insert(value, path: key.split(separator: ".").map(String.init)[...], into: &root) }
        return root
    }

    private static func insert(_ value: String, path: ArraySlice<String>, into node: inout [String: Any]) {
        guard let head = path.first else { return }
        if path.count == 1 { node[head] = value; return }
        var child = node[head] as? [String: Any] ?? [:]
        insert(value, path: path.dropFirst(), into: &child)
        node[head] = child
    }

    static let ja: [String: String] = [
        "lang": "ja", "otherLang": "en", "otherLangName": "English",
        "service": "ビジネスダイレクト", "bank": "しんきん銀行",
        "top.title": "ビジネスダイレクト ログオン",
        "top.lead": "法人インターネットバンキング「ビジネスダイレクト」へようこそ。",
        "top.admin": "管理者ログオン", "top.adminNote": "電子証明書方式（ご契約先暗証番号とお客様カードの確認用パスワード）",
        "top.user": "利用者ログオン", "top.userNote": "電子証明書方式（利用者暗証番号）",
        "top.acquire": "電子証明書取得", "top.acquireNote": "ご利用になるパソコンで電子証明書を取得します。",
        "top.help": "ログオンできないときは", "top.trust": "初めてご利用のお客様へ（認証局証明書の信頼設定）",
        "top.staff": "営業店スタッフ ログオン",
        "help.title": "ログオンできないとき",
        "help.cert": "電子証明書が無い、または有効期限が切れている場合は、管理者が利用者の電子証明書を再発行し、利用者がご利用のパソコンで取得してください。",
        "help.adminExpired": "管理者の電子証明書の有効期限が切れている場合は、お取引店に「電子証明書再発行依頼書」をご提出ください。",
        "help.lock": "暗証番号を所定の回数以上誤って入力するとサービスがロックされます。管理者がロックされると、すべての利用者もロックされます。解除にはお取引店に「暗証番号閉塞解除依頼書」をご提出ください。",
        "help.card": "お客様カードを紛失された場合は、お取引店に「お客様カード再発行依頼書」をご提出ください（再発行には2〜3週間かかります）。",
        "help.browser": "電子証明書はブラウザーを起動している間選択されたままになります。証明書を切り替えるときは、ブラウザーをすべて閉じてから起動し直してください。",
        "help.trustTitle": "認証局証明書の信頼設定",
        "help.trust": "ブラウザーに当行のルート認証局証明書を信頼させてください。フィンガープリント（SHA-256）:",
        "help.download": "ルート認証局証明書をダウンロード",
        "cert.none.title": "電子証明書が選択されていません",
        "cert.none.body": "このパソコンに電子証明書が無いか、ブラウザーで選択されていません。",
        "cert.none.next": "電子証明書を取得済みの場合は、ブラウザーをすべて閉じて起動し直し、証明書の選択画面で当行の証明書を選んでください。まだ取得していない場合は、トップページの「電子証明書取得」から取得してください。",
        "cert.expired.title": "電子証明書の有効期限が切れています",
        "cert.expired.body": "選択された電子証明書は {{date}} に有効期限が切れました。",
        "cert.expired.next": "利用者の場合は、管理者に電子証明書の再発行を依頼し、再発行後にこのパソコンで取得してください。管理者の場合は、お取引店に「電子証明書再発行依頼書」をご提出ください。",
        "cert.revoked.title": "電子証明書は失効しています",
        "cert.revoked.body": "選択された電子証明書は {{date}} に失効しました（再発行や更新により無効になりました）。",
        "cert.revoked.next": "新しい電子証明書を選んでください。ブラウザーをすべて閉じて起動し直すと、証明書を選び直せます。",
        "cert.foreign.title": "当行の電子証明書ではありません",
        "cert.foreign.body": "選択された証明書は当行が発行したものではありません。",
        "cert.foreign.next": "ブラウザーをすべて閉じて起動し直し、当行の電子証明書（契約者ID＋1635 など）を選んでください。",
        "cert.unknown.title": "この電子証明書は登録されていません",
        "cert.unknown.body": "選択された電子証明書は当行の記録にありません。",
        "cert.unknown.next": "お取引店にお問い合わせください。",
        "cert.notYetValid.title": "電子証明書はまだ有効ではありません",
        "cert.notYetValid.body": "選択された電子証明書は {{date}} から有効です。",
        "cert.notYetValid.next": "パソコンの時計をご確認のうえ、しばらくしてから再度お試しください。",
        "locked.title": "サービスはロックされています",
        "locked.body": "暗証番号を所定の回数以上誤って入力したため、サービスがロックされています。",
        "locked.next": "管理者がロックされた場合は、お取引店に「暗証番号閉塞解除依頼書」をご提出ください。利用者の場合は管理者にロック解除を依頼してください。",
        "pin.title": "暗証番号の入力", "pin.label": "暗証番号", "pin.submit": "ログオン",
        "pin.hint": "半角・全角どちらでも入力できます。",
        "home.title": "ホーム", "home.welcome": "ようこそ、", "home.serial": "電子証明書のシリアル番号", "home.expiry": "有効期限",
        "home.role": "区分", "logoffButton": "ログオフ",
        "logoff.title": "ログオフしました",
        "logoff.body": "安全のため、ブラウザーをすべて閉じてください。電子証明書はブラウザーを閉じるまで選択されたままです。",
        "role.administrator": "管理者", "role.user": "利用者", "role.clerk": "営業店（担当者）", "role.supervisor": "営業店（承認者）",
        "error.title": "エラー", "back": "トップページへ戻る", "logonAgain": "もう一度ログオンする",
        "error.kind.malformed": "入力内容に誤りがあります。", "error.kind.unauthenticated": "認証できませんでした。",
        "error.kind.forbidden": "この操作は許可されていません。", "error.kind.locked": "サービスはロックされています。",
        "error.kind.expired": "有効期限が切れています。", "error.kind.revoked": "電子証明書は失効しています。",
        "error.kind.notFound": "ページが見つかりません。", "error.kind.conflict": "すでに処理されているか、内容が変更されています。",
        "error.kind.internal": "ただいまサービスをご利用いただけません。しばらくしてから再度お試しください。",
        "error.pin.wrong": "暗証番号が正しくありません。所定の回数以上誤るとサービスがロックされます。",
        "error.service.locked": "サービスはロックされています。お取引店に「暗証番号閉塞解除依頼書」をご提出ください。",
        "error.session.missing": "セッションが終了しました。もう一度ログオンしてください。",
        "error.session.idleTimeout": "一定時間操作がなかったため、ログオフしました。もう一度ログオンしてください。",
        "error.session.absoluteTimeout": "ログオンから時間が経過したため、ログオフしました。もう一度ログオンしてください。",
        "error.session.certificateMismatch": "このセッションは別の電子証明書のものです。セッションを終了しました。ブラウザーを閉じてから再度ログオンしてください。",
        "error.csrf.invalid": "画面の有効期限が切れました。もう一度操作してください。",
        "error.request.tooLarge": "送信された内容が大きすぎます。",
    ]

    static let en: [String: String] = [
        "lang": "en", "otherLang": "ja", "otherLangName": "日本語",
        "service": "Business Direct", "bank": "Shinkin Bank",
        "top.title": "Business Direct log on",
        "top.lead": "Welcome to Business Direct, corporate internet banking.",
        "top.admin": "Administrator logon", "top.adminNote": "Certificate method (contract PIN and the card confirmation password)",
        "top.user": "User logon", "top.userNote": "Certificate method (user PIN)",
        "top.acquire": "Certificate acquisition", "top.acquireNote": "Acquire a certificate on the PC you will use.",
        "top.help": "If you cannot log on", "top.trust": "First time here: trust our certificate authority",
        "top.staff": "Branch staff logon",
        "help.title": "If you cannot log on",
        "help.cert": "If a user has no certificate or it has expired, the administrator re-issues the user's certificate and the user acquires it on the PC they will use.",
        "help.adminExpired": "If the administrator's certificate has expired, submit a certificate re-issue request form at your branch.",
        "help.lock": "Entering a wrong PIN more than the set number of times locks the service. When the administrator is locked, all users are locked too. To unlock, submit a PIN lock release request form at your branch.",
        "help.card": "If you lost your customer card, submit a customer card re-issue request form at your branch (a new card takes 2–3 weeks).",
        "help.browser": "A certificate stays selected while the browser runs. To switch certificates, close every browser window and start it again.",
        "help.trustTitle": "Trusting our certificate authority",
        "help.trust": "Make your browser trust our root certificate authority. Its SHA-256 fingerprint:",
        "help.download": "Download the root CA certificate",
        "cert.none.title": "No certificate was selected",
        "cert.none.body": "This PC has no certificate from us, or the browser did not send it.",
        "cert.none.next": "If you have acquired a certificate, close every browser window, start the browser again and choose our certificate when asked. If not, acquire one from \"Certificate acquisition\" on the top page.",
        "cert.expired.title": "Your certificate has expired",
        "cert.expired.body": "The certificate you chose expired on {{date}}.",
        "cert.expired.next": "Users: ask your administrator to re-issue your certificate, then acquire it on this PC. Administrators: submit a certificate re-issue request form at your branch.",
        "cert.revoked.title": "Your certificate has been revoked",
        "cert.revoked.body": "The certificate you chose was revoked on {{date}} (it was replaced by a re-issue or renewal).",
        "cert.revoked.next": "Choose your new certificate: close every browser window and start the browser again to choose again.",
        "cert.foreign.title": "This certificate is not from our bank",
        "cert.foreign.body": "The certificate you chose was not issued by us.",
        "cert.foreign.next": "Close every browser window, start the browser again and choose our certificate (named after your contract ID followed by 1635, for example).",
        "cert.unknown.title": "This certificate is not registered",
        "cert.unknown.body": "The certificate you chose is not in our records.",
        "cert.unknown.next": "Please contact your branch.",
        "cert.notYetValid.title": "Your certificate is not valid yet",
        "cert.notYetValid.body": "The certificate you chose is valid from {{date}}.",
        "cert.notYetValid.next": "Check your PC's clock and try again later.",
        "locked.title": "The service is locked",
        "locked.body": "The service is locked because a wrong PIN was entered too many times.",
        "locked.next": "If the administrator is locked, submit a PIN lock release request form at your branch. Users: ask your administrator to unlock you.",
        "pin.title": "Enter your PIN", "pin.label": "PIN", "pin.submit": "Log on",
        "pin.hint": "Full-width and half-width characters are both accepted.",
        "home.title": "Home", "home.welcome": "Welcome, ", "home.serial": "Certificate serial number", "home.expiry": "Expires",
        "home.role": "Role", "logoffButton": "Log off",
        "logoff.title": "You have logged off",
        "logoff.body": "For your safety, close every browser window: the certificate stays selected until the browser is closed.",
        "role.administrator": "Administrator", "role.user": "User", "role.clerk": "Branch clerk", "role.supervisor": "Branch supervisor",
        "error.title": "Error", "back": "Back to the top page", "logonAgain": "Log on again",
        "error.kind.malformed": "Something you entered is not valid.", "error.kind.unauthenticated": "We could not authenticate you.",
        "error.kind.forbidden": "This is not allowed.", "error.kind.locked": "The service is locked.",
        "error.kind.expired": "This has expired.", "error.kind.revoked": "The certificate has been revoked.",
        "error.kind.notFound": "Page not found.", "error.kind.conflict": "This was already done, or it changed meanwhile.",
        "error.kind.internal": "The service is not available right now. Please try again later.",
        "error.pin.wrong": "The PIN is not correct. Too many wrong PINs lock the service.",
        "error.service.locked": "The service is locked. Submit a PIN lock release request form at your branch.",
        "error.session.missing": "Your session has ended. Please log on again.",
        "error.session.idleTimeout": "You were logged off after a period without activity. Please log on again.",
        "error.session.absoluteTimeout": "You were logged off because your session is too old. Please log on again.",
        "error.session.certificateMismatch": "This session belongs to another certificate and has been ended. Close the browser and log on again.",
        "error.csrf.invalid": "This page has expired. Please try again.",
        "error.request.tooLarge": "What you sent is too large.",
    ]
}
