namespace Evothesis.Collector.Tests.Privacy;

/// <summary>
/// One redaction case: a payload (a bare string is the value of a non-secret <c>note</c> property), the
/// payload expected after redaction, and the event type it is sent with. A case whose expectation equals its
/// input is a look-alike that must come through byte for byte.
/// </summary>
public sealed record RedactionCase(string Category, string Input, string Expected, string EventType = "custom")
{
    public bool IsPii => Input != Expected;

    public override string ToString() => $"{Category}: {Input}";
}

/// <summary>The redaction corpus: personal data in every shape the rules cover, and look-alikes that are not.</summary>
public static class RedactionCorpus
{
    private const string Email = "[redacted:email]";
    private const string Phone = "[redacted:phone]";
    private const string Card = "[redacted:card]";
    private const string Ssn = "[redacted:ssn]";
    private const string Iban = "[redacted:iban]";
    private const string Secret = "[redacted:secret]";
    private const string FormValue = "[redacted:form_value]";

    public static IReadOnlyList<RedactionCase> Cases { get; } =
    [
        // Email addresses.
        new("email", "john.doe@example.com", Email),
        new("email", "Contact: jane_smith+news@mail.example.co.uk today", $"Contact: {Email} today"),
        new("email", "JOHN@EXAMPLE.COM", Email),
        new("email", "mailto:someone@company.org", $"mailto:{Email}"),
        new("email", "user%40example.com", Email),
        new("email", "<a.b-c@sub.domain.io>", $"<{Email}>"),
        new("email", "josé.garcía@correo.es", Email),
        new("email", "first.last@xn--bcher-kva.example", Email),
        new("email", "Email me at a@b.co.", $"Email me at {Email}."),
        new("email", "two: a1@x.com, b2@y.org", $"two: {Email}, {Email}"),
        new("email", "o'connor@example.ie", Email),
        new("email", "name@domain.museum", Email),
        new("email", "\"quoted\" x@y.de", $"\"quoted\" {Email}"),
        new("email", "reply-to:alerts-42@ops.example.net", $"reply-to:{Email}"),
        new("email", "From: Jane <jane.doe@example.com>, sent 2026-11-26", $"From: Jane <{Email}>, sent 2026-11-26"),

        // Phone numbers.
        new("phone", "+1 555 123 4567", Phone),
        new("phone", "+44 20 7946 0958", Phone),
        new("phone", "(555) 123-4567", Phone),
        new("phone", "555-123-4567", Phone),
        new("phone", "555.123.4567", Phone),
        new("phone", "Call +33 6 12 34 56 78 now", $"Call {Phone} now"),
        new("phone", "+15551234567", Phone),
        new("phone", "tel:+49-30-1234567", $"tel:{Phone}"),
        new("phone", "020 7946 0958", Phone),
        new("phone", "1-800-555-0199", Phone),
        new("phone", "0044 20 7946 0958", Phone),
        new("phone", "+1 (555) 123-4567", Phone),
        new("phone", "06 12 34 56 78", Phone),
        new("phone", "phone: 555 123 4567 ext 12", $"phone: {Phone} ext 12"),
        new("phone", "+91 98765 43210", Phone),
        new("phone", "Cambridge office: 01223 123456", $"Cambridge office: {Phone}"),
        new("phone", "Appelez le 06.12.34.56.78", $"Appelez le {Phone}"),
        new("phone", "Booked 2026-11-26 555-123-4567", $"Booked 2026-11-26 {Phone}"),

        // Payment card numbers (Luhn-valid).
        new("card", "4111111111111111", Card),
        new("card", "4111 1111 1111 1111", Card),
        new("card", "4111-1111-1111-1111", Card),
        new("card", "5500 0000 0000 0004", Card),
        new("card", "378282246310005", Card),
        new("card", "3782 822463 10005", Card),
        new("card", "6011111111111117", Card),
        new("card", "Paid with 4012888888881881 yesterday", $"Paid with {Card} yesterday"),
        new("card", "30569309025904", Card),
        new("card", "2223003122003222", Card),
        new("card", "4111111111111111 12/25", $"{Card} 12/25"),
        new("card", """{"payment":{"n":4111111111111111,"amount":12.5}}""", $$$"""{"payment":{"n":"{{{Card}}}","amount":12.5}}"""),

        // US social security numbers.
        new("ssn", "123-45-6789", Ssn),
        new("ssn", "SSN 078-05-1120", $"SSN {Ssn}"),
        new("ssn", "ssn: 219-09-9999", $"ssn: {Ssn}"),
        new("ssn", "123 45 6789", Ssn),
        new("ssn", "My number is 536-90-4399.", $"My number is {Ssn}."),
        new("ssn", "(123-45-6789)", $"({Ssn})"),
        new("ssn", "id=123-45-6789", $"id={Ssn}"),
        new("ssn", "SSN:457-55-5462", $"SSN:{Ssn}"),

        // IBANs (mod-97 checked).
        new("iban", "DE89370400440532013000", Iban),
        new("iban", "DE89 3704 0044 0532 0130 00", Iban),
        new("iban", "GB82WEST12345698765432", Iban),
        new("iban", "GB82 WEST 1234 5698 7654 32", Iban),
        new("iban", "FR1420041010050500013M02606", Iban),
        new("iban", "NL91ABNA0417164300", Iban),
        new("iban", "IBAN: CH9300762011623852957", $"IBAN: {Iban}"),
        new("iban", "es9121000418450200051332", Iban),

        // URLs: scheme, host and path stay; personal data and secrets in queries and fragments go.
        new("url", "https://shop.acme.com/checkout?email=john%40example.com&step=2", $"https://shop.acme.com/checkout?email={Email}&step=2"),
        new("url", "https://x.com/reset?token=abc123def", $"https://x.com/reset?token={Secret}"),
        new("url", "https://x.com/p?utm_source=news&q=call+555-123-4567", $"https://x.com/p?utm_source=news&q={Phone}"),
        new("url", "https://user:hunter2@example.com/path", "https://example.com/path"),
        new("url", "https://app.example.com/#access_token=eyJhbGci&state=xyz", $"https://app.example.com/#access_token={Secret}&state=xyz"),
        new("url", "https://example.com/unsubscribe/john@example.com", $"https://example.com/unsubscribe/{Email}"),
        new("url", "https://example.com/u/john%40example.com/profile", $"https://example.com/u/{Email}/profile"),
        new("url", "/search?email=a%40b.com", $"/search?email={Email}"),
        new("url", "?email=a%40b.com&ref=home", $"?email={Email}&ref=home"),
        new("url", "#/users?phone=5551234567", $"#/users?phone={Secret}"),
        new("url", "Visit https://x.com/?email=a@b.com for details", $"Visit https://x.com/?email={Email} for details"),
        new("url", "https://x.com is great, mail jane@x.com", $"https://x.com is great, mail {Email}"),
        new("url", "See https://x.com/reset?token=abc, then log in.", $"See https://x.com/reset?token={Secret}, then log in."),
        new("url", "https://example.com/api?api_key=sk_live_123&page=2", $"https://example.com/api?api_key={Secret}&page=2"),
        new("url", "https://example.com/p?password=hunter2", $"https://example.com/p?password={Secret}"),
        new("url", "https://example.com/p?card=4111111111111111", $"https://example.com/p?card={Card}"),
        new("url", "https://example.com/p?ssn=123-45-6789#top", $"https://example.com/p?ssn={Ssn}#top"),
        new("url", """{"page_url":"https://shop.acme.com/thanks?order=ORD-1&e=jane%40example.com","title":"Thanks"}""", $$$"""{"page_url":"https://shop.acme.com/thanks?order=ORD-1&e={{{Email}}}","title":"Thanks"}"""),
        new("url", "/reset?token=abcdef", $"/reset?token={Secret}"),
        new("url", "?token=abcdef&ref=home", $"?token={Secret}&ref=home"),
        new("url", "#token=abcdef&state=xyz", $"#token={Secret}&state=xyz"),
        new("url", "https://app.example.com/#/users/jane@example.com", $"https://app.example.com/#/users/{Email}"),
        new("url", "//cdn.example.com/p?email=a%40b.com", $"//cdn.example.com/p?email={Email}"),
        new("url", "//user:hunter2@example.com/p", "//example.com/p"),
        new("url", "https://x.com/?jane@example.com=1&b=2", $"https://x.com/?{Email}=1&b=2"),
        new("url", "https://x.com/?jane@example.com", $"https://x.com/?{Email}"),
        new("url", "https://x.com/s?q=call+555+123+4567", $"https://x.com/s?q={Phone}"),
        new("url", "https://x.com/s?e=jane%2edoe%40EXAMPLE%2Ecom", $"https://x.com/s?e={Email}"),
        new("url", "https://x.com/u/jane%2edoe%40example%2ecom", $"https://x.com/u/{Email}"),
        new("url", "(see https://x.com/r?token=abc).", $"(see https://x.com/r?token={Secret})."),
        new("url", "open android-app://com.example/p?token=abc now", $"open android-app://com.example/p?token={Secret} now"),
        new("url", "https://x.com/p?p=1#id_token=abc", $"https://x.com/p?p=1#id_token={Secret}"),

        // Keys that name secrets.
        new("secret_key", """{"password":"hunter2"}""", $$$"""{"password":"{{{Secret}}}"}"""),
        new("secret_key", """{"user":{"Password":"x","plan":"pro"}}""", $$$"""{"user":{"Password":"{{{Secret}}}","plan":"pro"}}"""),
        new("secret_key", """{"apiKey":"sk_live_abc"}""", $$$"""{"apiKey":"{{{Secret}}}"}"""),
        new("secret_key", """{"cardNumber":"1234"}""", $$$"""{"cardNumber":"{{{Secret}}}"}"""),
        new("secret_key", """{"cvv":123}""", $$$"""{"cvv":"{{{Secret}}}"}"""),
        new("secret_key", """{"credentials":{"user":"bob","pin":"1234"}}""", $$$"""{"credentials":{"user":"{{{Secret}}}","pin":"{{{Secret}}}"}}"""),
        new("secret_key", """{"X-Auth-Token":"abc"}""", $$$"""{"X-Auth-Token":"{{{Secret}}}"}"""),
        new("secret_key", """{"user_email":"j@x.com"}""", $$$"""{"user_email":"{{{Email}}}"}"""),
        new("secret_key", """{"billing":{"iban":"whatever123"}}""", $$$"""{"billing":{"iban":"{{{Secret}}}"}}"""),
        new("secret_key", """{"phone":"555 0100"}""", $$$"""{"phone":"{{{Secret}}}"}"""),
        new("secret_key", """{"dob":"1990-04-12"}""", $$$"""{"dob":"{{{Secret}}}"}"""),
        new("secret_key", """{"ip_address":"203.0.113.9"}""", $$$"""{"ip_address":"{{{Secret}}}"}"""),
        new("secret_key", """{"client_ips":["203.0.113.9","198.51.100.7"]}""", $$$"""{"client_ips":["{{{Secret}}}","{{{Secret}}}"]}"""),
        new("secret_key", """{"session":{"refresh_token":"r1","ttl":3600}}""", $$$"""{"session":{"refresh_token":"{{{Secret}}}","ttl":3600}}"""),
        new("secret_key", """{"tokens":["a","b"]}""", $$$"""{"tokens":["{{{Secret}}}","{{{Secret}}}"]}"""),
        new("secret_key", """{"accessToken":["a","b"]}""", $$$"""{"accessToken":["{{{Secret}}}","{{{Secret}}}"]}"""),

        // Form events: field names stay, values never.
        new("form", """{"formId":"contact","formAction":"https://shop.acme.com/contact","formMethod":"post","formData":{"name":"Jane Doe","email":"jane@example.com","message":"Hello there","newsletter":true}}""",
            $$$"""{"formId":"contact","formAction":"https://shop.acme.com/contact","formMethod":"post","formData":{"name":"{{{FormValue}}}","email":"{{{FormValue}}}","message":"{{{FormValue}}}","newsletter":"{{{FormValue}}}"}}""", "form_submit"),
        new("form", """{"field_name":"email","field_type":"email","value":"jane@x.com"}""", $$$"""{"field_name":"email","field_type":"email","value":"{{{FormValue}}}"}""", "form_change"),
        new("form", """{"fields":[{"name":"email","type":"email","value":"a@b.co"},{"name":"age","type":"number","value":42}]}""",
            $$$"""{"fields":[{"name":"email","type":"email","value":"{{{FormValue}}}"},{"name":"age","type":"number","value":"{{{FormValue}}}"}]}""", "form_submit"),
        new("form", """{"formData":{"name":"Jane","id":"x-1"}}""", $$$"""{"formData":{"name":"{{{FormValue}}}","id":"{{{FormValue}}}"}}""", "form_submit"),
        new("form", """{"formData":{"comments":["great","slow delivery"]}}""", $$$"""{"formData":{"comments":["{{{FormValue}}}","{{{FormValue}}}"]}}""", "form_submit"),
        new("form", """{"formId":"signup","formData":{"company":"Acme"}}""", $$$"""{"formId":"signup","formData":{"company":"{{{FormValue}}}"}}""", "formSubmit"),
        new("form", """{"form_id":"nl","fields":{"email":"a@b.co"}}""", $$$"""{"form_id":"nl","fields":{"email":"{{{FormValue}}}"}}""", "newsletter_form_submit"),
        new("form", """{"formId":"search","formAction":"https://shop.acme.com/s?q=jane%40example.com"}""", $$$"""{"formId":"search","formAction":"https://shop.acme.com/s?q={{{Email}}}"}""", "form_submit"),
        new("form", """{"campaign":"spring","formData":{"email":"a@b.co","company":"Acme"}}""", $$$"""{"campaign":"spring","formData":{"email":"{{{FormValue}}}","company":"{{{FormValue}}}"}}""", "lead"),
        new("form", """{"plan":"pro","form_fields":[{"name":"email","value":"a@b.co"}]}""", $$$"""{"plan":"pro","form_fields":[{"name":"email","value":"{{{FormValue}}}"}]}""", "signup"),
        new("form", """{"field_name":"zip","value":"94107","duration_ms":5300}""", $$$"""{"field_name":"zip","value":"{{{FormValue}}}","duration_ms":5300}""", "form_focus"),

        // Look-alikes: identifiers, amounts, dates, versions, URLs and names that are not personal data.
        new("lookalike", "ORD-12345", "ORD-12345"),
        new("lookalike", "Order ORD-12345 confirmed", "Order ORD-12345 confirmed"),
        new("lookalike", "299.99", "299.99"),
        new("lookalike", "$1,299.99", "$1,299.99"),
        new("lookalike", "SKU-000123", "SKU-000123"),
        new("lookalike", "PRD-88412-XL", "PRD-88412-XL"),
        new("lookalike", "product 12345678", "product 12345678"),
        new("lookalike", "2026-11-26", "2026-11-26"),
        new("lookalike", "2026-11-26T11:59:58.123Z", "2026-11-26T11:59:58.123Z"),
        new("lookalike", "2026-11-26 10:30", "2026-11-26 10:30"),
        new("lookalike", "11/26/2026", "11/26/2026"),
        new("lookalike", "26.11.2026", "26.11.2026"),
        new("lookalike", "2026-11-01 - 2026-11-30", "2026-11-01 - 2026-11-30"),
        new("lookalike", "550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440000"),
        new("lookalike", "0190f0e4-7c2a-7def-8a3b-1c2d3e4f5a6b", "0190f0e4-7c2a-7def-8a3b-1c2d3e4f5a6b"),
        new("lookalike", "12345678-1234-5678-1234-567812345678", "12345678-1234-5678-1234-567812345678"),
        new("lookalike", "1732622400000", "1732622400000"),
        new("lookalike", "Timestamp 1732622400123 ms", "Timestamp 1732622400123 ms"),
        new("lookalike", "1.2.3", "1.2.3"),
        new("lookalike", "10.0.19041.1234", "10.0.19041.1234"),
        new("lookalike", "v2.14.0-beta.3", "v2.14.0-beta.3"),
        new("lookalike", "4.0.30319.42000", "4.0.30319.42000"),
        new("lookalike", "Qty 2 of 10", "Qty 2 of 10"),
        new("lookalike", "1 2 3 4 5 6 7 8 9 10", "1 2 3 4 5 6 7 8 9 10"),
        new("lookalike", "logo@2x.png", "logo@2x.png"),
        new("lookalike", "https://cdn.example.com/img/logo@2x.png", "https://cdn.example.com/img/logo@2x.png"),
        new("lookalike", "@username", "@username"),
        new("lookalike", "https://shop.acme.com/p?q=shoes&page=2", "https://shop.acme.com/p?q=shoes&page=2"),
        new("lookalike", "https://shop.acme.com/products/12345?color=red#reviews", "https://shop.acme.com/products/12345?color=red#reviews"),
        new("lookalike", "https://www.google.com/", "https://www.google.com/"),
        new("lookalike", "ISBN 978-3-16-148410-0", "ISBN 978-3-16-148410-0"),
        new("lookalike", "tracking 1Z999AA10123456784", "tracking 1Z999AA10123456784"),
        new("lookalike", "color #ff0000", "color #ff0000"),
        new("lookalike", "/products/shoes?size=42", "/products/shoes?size=42"),
        new("lookalike", "EUR 1.234,56", "EUR 1.234,56"),
        new("lookalike", "sess_8f2a9c41", "sess_8f2a9c41"),
        new("lookalike", "GB99WEST12345698765432", "GB99WEST12345698765432"),
        new("lookalike", "4111111111111112", "4111111111111112"),
        new("lookalike", "1234567890123456", "1234567890123456"),
        new("lookalike", "12345678901", "12345678901"),
        new("lookalike", "Call center hours 9-17", "Call center hours 9-17"),
        new("lookalike", "3.14159265358979", "3.14159265358979"),
        new("lookalike", "INV-2026-000123", "INV-2026-000123"),
        new("lookalike", "000-00-0000", "000-00-0000"),
        new("lookalike", "Reset your password here", "Reset your password here"),
        new("lookalike", "https://x.com/?token=&page=2", "https://x.com/?token=&page=2"),
        new("lookalike", "see ://x?token=abc", "see ://x?token=abc"),
        new("lookalike", "https://x.com/#/users/42/edit", "https://x.com/#/users/42/edit"),
        new("lookalike", "/search?q=100%&sort=asc", "/search?q=100%&sort=asc"),
        new("lookalike", """{"order_id":"ORD-12345","value":299.99,"currency":"USD","items":[{"product_id":"SKU-1","price":19.99,"quantity":2}]}""",
            """{"order_id":"ORD-12345","value":299.99,"currency":"USD","items":[{"product_id":"SKU-1","price":19.99,"quantity":2}]}""", "purchase"),
        new("lookalike", """{"url":"https://shop.acme.com/p?q=1","title":"Catalog","referrer":"https://google.com/"}""",
            """{"url":"https://shop.acme.com/p?q=1","title":"Catalog","referrer":"https://google.com/"}""", "pageview"),
        new("lookalike", """{"timestamp":1732622400000,"scrollTop":1200,"ratio":0.75}""", """{"timestamp":1732622400000,"scrollTop":1200,"ratio":0.75}""", "scroll"),
        new("lookalike", """{"shipping":"express","spinner":"on","keyboard":"qwerty","author":"staff","tokenizer":"bpe"}""",
            """{"shipping":"express","spinner":"on","keyboard":"qwerty","author":"staff","tokenizer":"bpe"}"""),
        new("lookalike", """{"email_opt_in":true,"remember_password":false,"phone_verified":null}""",
            """{"email_opt_in":true,"remember_password":false,"phone_verified":null}"""),
        new("lookalike", """{"tagName":"button","id":"add-to-cart","text":"Add to cart","position":{"x":120,"y":88}}""",
            """{"tagName":"button","id":"add-to-cart","text":"Add to cart","position":{"x":120,"y":88}}""", "click"),
        new("lookalike", """{"formId":"contact","formMethod":"post","field_names":["name","email"],"field_count":2}""",
            """{"formId":"contact","formMethod":"post","field_names":["name","email"],"field_count":2}""", "form_view"),
        new("lookalike", """{"release":"2026.11.26","build":"20261126.1","sha":"9f86d081884c7d65"}""",
            """{"release":"2026.11.26","build":"20261126.1","sha":"9f86d081884c7d65"}"""),
        new("lookalike", """{"escaped":"caf\u00e9 \u2013 \"quoted\" \\ slash"}""", """{"escaped":"caf\u00e9 \u2013 \"quoted\" \\ slash"}"""),
    ];
}
