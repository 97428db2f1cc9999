namespace Evothesis.Collector.Privacy;

/// <summary>
/// How the collector redacts personal data from event payloads, bound from <c>Evothesis:Privacy</c>.
/// </summary>
/// <remarks>
/// Consent and IP handling follow each client's configuration and have no switches here. Redaction always
/// applies to <c>gdpr</c> and <c>hipaa</c> clients; these options tune what it recognises. Lists add to the
/// built-in defaults (configuration binding appends to lists, so replacing a default is done with the
/// <c>UseDefault...</c> switches).
/// </remarks>
public sealed class PrivacyOptions
{
    /// <summary>
    /// The built-in names whose values are always replaced, matched against JSON property names and URL query
    /// parameter names as whole words, case-insensitively, in any spelling (<c>card_number</c> matches
    /// <c>cardNumber</c>, <c>card-number</c> and <c>billingCardNumber</c>, but <c>pin</c> does not match <c>shipping</c>).
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultSecretKeys =
    [
        "password", "passwd", "pwd", "passphrase", "passcode", "secret", "token", "api_key", "apikey", "access_key",
        "private_key", "authorization", "bearer", "credential", "credentials", "otp", "verification_code",
        "ssn", "social_security", "social_security_number", "tax_id", "national_id", "passport_number",
        "drivers_license", "driver_license",
        "card_number", "cardnumber", "cc_number", "ccnumber", "cc_num", "credit_card", "creditcard", "cvv", "cvv2",
        "cvc", "csc", "security_code", "card_verification", "pin", "iban", "account_number", "routing_number",
        "bank_account", "sort_code",
        "email", "e_mail", "phone", "telephone", "tel", "mobile_number",
        "first_name", "last_name", "full_name", "firstname", "lastname", "fullname", "surname", "given_name",
        "family_name", "date_of_birth", "birth_date", "birthdate", "dob", "address", "street",
        "ip", "ip_address", "ipaddress", "remote_addr", "x_forwarded_for",
        "mrn", "medical_record_number", "health_plan_number", "insurance_number",
    ];

    /// <summary>
    /// The built-in names of form-event properties that describe the form rather than hold what the visitor
    /// typed, so their values are kept (and still checked for personal data): <c>form_id</c>, <c>field_name</c>,
    /// ... Matched against whole property names at any depth, case-insensitively, ignoring <c>_</c> and <c>-</c>.
    /// </summary>
    /// <remarks>
    /// Two more kinds of property are kept in form events: the page context at the top level of the payload
    /// (<c>url</c>, <c>path</c>, <c>title</c>, <c>referrer</c>, ...), and a field's descriptors (<c>name</c>,
    /// <c>id</c>, <c>type</c>, <c>label</c>, ...) in an object that also holds the field's <c>value</c>. Without a
    /// value beside them those may be a value themselves (<c>{"name": "Jane Doe"}</c>) and are redacted.
    /// </remarks>
    public static readonly IReadOnlyList<string> DefaultFormMetadataKeys =
    [
        "form_id", "form_name", "form_action", "form_method", "form_class", "form_classes", "form_type", "form_step",
        "form_destination", "form_length", "field_name", "field_names", "field_id", "field_ids", "field_type",
        "field_label", "field_index", "field_count", "fields_count", "tag_name", "element_id", "duration",
        "duration_ms", "time_spent", "time_on_form", "submit_count", "error_count", "navigation_method",
    ];

    /// <summary>
    /// Gets or sets a value indicating whether <c>standard</c> clients' events are redacted too. A standard
    /// client's visitors agreed to analytics, not to their emails and card numbers being stored; turn this off
    /// only for clients whose payloads are known to be free of personal data. The default is <see langword="true"/>.
    /// </summary>
    public bool RedactStandardClients { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether <see cref="DefaultSecretKeys"/> apply. The default is
    /// <see langword="true"/>; turn it off to use <see cref="SecretKeys"/> alone.
    /// </summary>
    public bool UseDefaultSecretKeys { get; set; } = true;

    /// <summary>
    /// Gets or sets more names whose values are replaced with <c>[redacted:secret]</c>, matched like
    /// <see cref="DefaultSecretKeys"/>: in JSON property names at any depth and in URL query and fragment
    /// parameter names. Empty by default.
    /// </summary>
    public IList<string> SecretKeys { get; set; } = [];

    /// <summary>
    /// Gets or sets more words that make an event type a form event, whose property names are kept and whose
    /// values are replaced with <c>[redacted:form_value]</c> (in <c>event_data</c> and custom fields). Event types
    /// with the word <c>form</c> (<c>form_submit</c>, <c>form_focus</c>, <c>formChange</c>,
    /// <c>newsletter_form_submit</c>, ...) always are. Matched as words, like <see cref="SecretKeys"/>. Empty by default.
    /// </summary>
    public IList<string> FormEventTypes { get; set; } = [];

    /// <summary>
    /// Gets or sets more form-event property names whose values are kept, in addition to
    /// <see cref="DefaultFormMetadataKeys"/>. Empty by default.
    /// </summary>
    public IList<string> FormMetadataKeys { get; set; } = [];
}
