using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Evothesis.Collector.Events;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Tests.Privacy;

public sealed class JsonRedactorTests
{
    private static readonly JsonRedactor Redactor = new(new PrivacyOptions());
    private static readonly RedactionProcessor Processor = new(Redactor, Options.Create(new CollectorOptions()));

    // Names must be the same in every process (test filters and Stryker match them between discovery and
    // run), so the suffix is the case's position in the corpus, not a string hash (randomized per process).
    public static IEnumerable<TestCaseData> Corpus() =>
        RedactionCorpus.Cases.Select((c, i) => new TestCaseData(c).SetName($"Redact_Corpus_{c.Category}_{Slug(c.Input)}_{i}"));

    [TestCaseSource(nameof(Corpus))]
    public void Redact_CorpusCase_MatchesExpectation(RedactionCase @case)
    {
        var (input, output) = Run(@case);

        if (@case.IsPii)
        {
            Canonical(output).Should().Be(Canonical(Payload(@case.Expected)), "personal data must be replaced and everything around it kept");
        }
        else
        {
            output.Utf8.ToArray().Should().Equal(input.Utf8.ToArray(), "a payload without personal data must come through byte for byte");
        }
    }

    // What the metrics (evothesis.collector.privacy.redactions{rule}) and audit records are built from: one count
    // per redacted value and rule, so a string with two addresses counts one email, and a value with an address and
    // a phone number counts one of each.
    [TestCaseSource(nameof(Corpus))]
    public void Redact_CorpusCase_CountsEachRedactedValueUnderItsRule(RedactionCase @case)
    {
        var recorder = new RedactionRecorder(collectLocations: true);
        Redactor.Redact(Payload(@case.Input), "event_data", Processor.IsFormEvent(@case.EventType), recorder);

        var expected = new int[PiiKinds.Count];
        CountMarkers(JsonDocument.Parse(Payload(@case.Expected).Utf8).RootElement, expected);
        if (System.Text.RegularExpressions.Regex.IsMatch(@case.Input, "(^|:)//[^/?#\\s\"]*@"))
        {
            expected[(int)PiiKind.Credentials]++;
        }

        Enumerable.Range(0, PiiKinds.Count).Select(k => recorder.Count((PiiKind)k)).Should().Equal(expected, "counts by rule: " + string.Join(", ", Enumerable.Range(0, PiiKinds.Count).Select(k => PiiKinds.Name((PiiKind)k))));
        recorder.Total.Should().Be(expected.Sum());
        recorder.Locations.Should().OnlyHaveUniqueItems();
        recorder.Locations.Where(l => !l.Contains(":event_data", StringComparison.Ordinal)).Should().BeEmpty("a location is rule:field.path");
        if (!@case.IsPii)
        {
            recorder.Locations.Should().BeEmpty();
        }
    }

    [Test]
    public void Redact_WholeCorpus_ReportsFullRecallAndPrecision()
    {
        int truePositives = 0, falseNegatives = 0, falsePositives = 0, trueNegatives = 0;
        var byCategory = new SortedDictionary<string, (int Cases, int Correct)>(StringComparer.Ordinal);
        var failures = new List<string>();
        foreach (var @case in RedactionCorpus.Cases)
        {
            var (input, output) = Run(@case);
            bool correct;
            if (@case.IsPii)
            {
                correct = Canonical(output) == Canonical(Payload(@case.Expected));
                if (correct)
                {
                    truePositives++;
                }
                else
                {
                    falseNegatives++;
                }
            }
            else
            {
                correct = output.Utf8.Span.SequenceEqual(input.Utf8.Span);
                if (correct)
                {
                    trueNegatives++;
                }
                else
                {
                    falsePositives++;
                }
            }

            if (!correct)
            {
                failures.Add($"{@case} -> {output}");
            }

            var (cases, right) = byCategory.GetValueOrDefault(@case.Category);
            byCategory[@case.Category] = (cases + 1, right + (correct ? 1 : 0));
        }

        var precision = truePositives + falsePositives == 0 ? 1d : (double)truePositives / (truePositives + falsePositives);
        var recall = truePositives + falseNegatives == 0 ? 1d : (double)truePositives / (truePositives + falseNegatives);
        var report = new StringBuilder()
            .AppendLine($"Redaction corpus: {RedactionCorpus.Cases.Count} cases, {truePositives + falseNegatives} with personal data, {trueNegatives + falsePositives} look-alikes")
            .AppendLine($"  precision {precision:P1} (TP {truePositives}, FP {falsePositives})   recall {recall:P1} (FN {falseNegatives})   untouched look-alikes {trueNegatives}")
            .AppendLine(string.Join(Environment.NewLine, byCategory.Select(p => $"  {p.Key,-11} {p.Value.Correct}/{p.Value.Cases} correct")));
        foreach (var failure in failures)
        {
            report.AppendLine("  FAILED " + failure);
        }

        TestContext.Out.Write(report.ToString());

        RedactionCorpus.Cases.Should().HaveCountGreaterThanOrEqualTo(100);
        failures.Should().BeEmpty();
        recall.Should().Be(1d);
        precision.Should().Be(1d);
    }

    [Test]
    public void Redact_PayloadWithoutPersonalData_ReturnsSameBytes()
    {
        var payload = RawJson.Parse("""{"url":"https://shop.acme.com/p?q=1","title":"Catalog","value":299.99}""");

        var result = Redactor.Redact(payload, "page_data", formValues: false, new RedactionRecorder(false));

        result.Utf8.Equals(payload.Utf8).Should().BeTrue("the same memory is returned when nothing changes");
    }

    [Test]
    public void Redact_KeepsPropertyOrderAndUntouchedValuesByteForByte()
    {
        var payload = RawJson.Parse("""{"b":1.50,"a":"x@y.com","c":"caf\u00e9","d":[1, 2 ,3]}""");

        var result = Redactor.Redact(payload, "event_data", formValues: false, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"b":1.50,"a":"[redacted:email]","c":"caf\u00e9","d":[1, 2 ,3]}""");
    }

    [Test]
    public void Redact_EscapedPersonalData_IsFoundAfterUnescaping()
    {
        var payload = RawJson.Parse("""{"note":"mail \u006a\u006f\u0068\u006e@example.com please"}""");

        var result = Redactor.Redact(payload, "event_data", formValues: false, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"note":"mail [redacted:email] please"}""");
    }

    [Test]
    public void Redact_PropertyNameHoldingPersonalData_ReplacesTheName()
    {
        var payload = RawJson.Parse("""{"votes":{"jane@example.com":3}}""");
        var recorder = new RedactionRecorder(collectLocations: true);

        var result = Redactor.Redact(payload, "custom_data", formValues: false, recorder);

        result.ToString().Should().Be("""{"votes":{"[redacted:email]":3}}""");
        recorder.Locations.Should().Equal("email:custom_data.votes.[redacted:email]");
    }

    [Test]
    public void Redact_DeeplyNested_RedactsAtEveryDepth()
    {
        var payload = RawJson.Parse("""{"a":{"b":[{"c":{"d":["call 555-123-4567"]}}]}}""");
        var recorder = new RedactionRecorder(collectLocations: true);

        var result = Redactor.Redact(payload, "event_data", formValues: false, recorder);

        result.ToString().Should().Be("""{"a":{"b":[{"c":{"d":["call [redacted:phone]"]}}]}}""");
        recorder.Locations.Should().Equal("phone:event_data.a.b[].c.d[]");
        recorder.Count(PiiKind.Phone).Should().Be(1);
    }

    [Test]
    public void Redact_RecordsRuleAndLocationWithoutValues()
    {
        var payload = RawJson.Parse("""{"formId":"contact","formData":{"email":"jane@example.com","message":"call 555-123-4567"}}""");
        var recorder = new RedactionRecorder(collectLocations: true);

        Redactor.Redact(payload, "event_data", formValues: true, recorder);

        recorder.Locations.Should().Equal("form_value:event_data.formData.email", "form_value:event_data.formData.message");
        string.Join(" ", recorder.Locations).Should().NotContain("jane").And.NotContain("555");
    }

    [Test]
    public void Redact_FormEventPageContextAtTopLevel_IsKept()
    {
        var payload = RawJson.Parse("""{"url":"https://shop.acme.com/contact","path":"/contact","formData":{"url":"https://jane.example.org"}}""");

        var result = Redactor.Redact(payload, "custom_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"url":"https://shop.acme.com/contact","path":"/contact","formData":{"url":"[redacted:form_value]"}}""");
    }

    [Test]
    public void Redact_FieldDescriptorNextToValue_KeepsDescriptorButStillRedactsPatterns()
    {
        var payload = RawJson.Parse("""{"fields":[{"name":"jane@example.com","value":"x"}]}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"fields":[{"name":"[redacted:email]","value":"[redacted:form_value]"}]}""");
    }

    [Test]
    public void Redact_DescriptorInNestedObjectWithoutValue_StaysRedactedWhenParentHasValue()
    {
        var payload = RawJson.Parse("""{"value":"x","meta":{"name":"Jane Doe"}}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"value":"[redacted:form_value]","meta":{"name":"[redacted:form_value]"}}""");
    }

    [Test]
    public void Redact_ConfiguredSecretKey_IsRedacted()
    {
        var options = new PrivacyOptions();
        options.SecretKeys.Add("member_number");
        var redactor = new JsonRedactor(options);

        var result = redactor.Redact(RawJson.Parse("""{"memberNumber":"M-1234","plan":"gold"}"""), "event_data", false, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"memberNumber":"[redacted:secret]","plan":"gold"}""");
    }

    // The documented defaults, written out: a name dropped from PrivacyOptions.DefaultSecretKeys or
    // DefaultFormMetadataKeys fails its row.
    private static readonly string[] DefaultSecretKeys =
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

    private static readonly string[] DefaultFormMetadataKeys =
    [
        "form_id", "form_name", "form_action", "form_method", "form_class", "form_classes", "form_type", "form_step",
        "form_destination", "form_length", "field_name", "field_names", "field_id", "field_ids", "field_type",
        "field_label", "field_index", "field_count", "fields_count", "tag_name", "element_id", "duration",
        "duration_ms", "time_spent", "time_on_form", "submit_count", "error_count", "navigation_method",
    ];

    [TestCaseSource(nameof(DefaultSecretKeys))]
    public void Redact_DefaultSecretKey_ReplacesItsValue(string key)
    {
        var payload = RawJson.Parse($$"""{"{{key}}":"plain-value-7","note":"plain-value-7"}""");

        var result = Redactor.Redact(payload, "event_data", formValues: false, new RedactionRecorder(false));

        result.ToString().Should().Be($$"""{"{{key}}":"[redacted:secret]","note":"plain-value-7"}""");
    }

    [TestCaseSource(nameof(DefaultFormMetadataKeys))]
    public void Redact_DefaultFormMetadataKeyInFormEvent_KeepsItsValue(string key)
    {
        var payload = RawJson.Parse($$"""{"{{key}}":"plain-value-7","note":"plain-value-7"}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be($$"""{"{{key}}":"plain-value-7","note":"[redacted:form_value]"}""");
    }

    // The form rule's built-in names (docs/privacy.md, "Form events"), written out: each row fails when its name
    // is dropped from NameClassifier or stops doing what the docs say.
    private static readonly string[] PageContextKeys =
        ["url", "path", "title", "referrer", "hash", "query_params", "page", "visitor_id", "attribution", "browser", "batch_metadata", "language", "timezone", "user_agent"];

    private static readonly string[] DescriptorKeys = ["name", "id", "type", "label", "placeholder", "tag", "field", "index", "position", "required"];

    private static readonly string[] ValueHolderKeys = ["value", "values", "field_value", "checked", "selected", "input", "text"];

    private static readonly string[] FormContainerKeys = ["form_data", "form_values", "form_fields", "field_values", "form_inputs", "form_answers"];

    [TestCaseSource(nameof(PageContextKeys))]
    public void Redact_PageContextKeyInFormEvent_IsKeptAtTheTopLevelOnly(string key)
    {
        var payload = RawJson.Parse($$$"""{"{{{key}}}":"plain-value-7","note":"plain-value-7","step":{"{{{key}}}":"plain-value-7"}}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be(
            $$$"""{"{{{key}}}":"plain-value-7","note":"[redacted:form_value]","step":{"{{{key}}}":"[redacted:form_value]"}}""");
    }

    [TestCaseSource(nameof(DescriptorKeys))]
    public void Redact_DescriptorKeyInFormEvent_IsKeptBesideAValueAndReplacedWithout(string key)
    {
        var payload = RawJson.Parse($$"""{"fields":[{"{{key}}":"plain-value-7","value":"typed"},{"{{key}}":"plain-value-7","note":"typed"}]}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be(
            $$"""{"fields":[{"{{key}}":"plain-value-7","value":"[redacted:form_value]"},{"{{key}}":"[redacted:form_value]","note":"[redacted:form_value]"}]}""");
    }

    [TestCaseSource(nameof(ValueHolderKeys))]
    public void Redact_ValueHolderKeyInFormEvent_KeepsTheFieldsDescriptors(string key)
    {
        var payload = RawJson.Parse($$"""{"fields":[{"name":"email","{{key}}":"typed"}]}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be($$"""{"fields":[{"name":"email","{{key}}":"[redacted:form_value]"}]}""");
    }

    [TestCaseSource(nameof(FormContainerKeys))]
    public void Redact_FormContainerKeyInAnyEvent_AppliesTheFormRuleInside(string key)
    {
        var camel = string.Concat(key.Split('_').Select((w, i) => i == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));
        var payload = RawJson.Parse($$"""{"{{key}}":{"company":"Acme"},"{{camel}}":["Acme"],"note":"Acme"}""");

        var result = Redactor.Redact(payload, "event_data", formValues: false, new RedactionRecorder(false));

        result.ToString().Should().Be($$"""{"{{key}}":{"company":"[redacted:form_value]"},"{{camel}}":["[redacted:form_value]"],"note":"Acme"}""");
    }

    [Test]
    public void Redact_DescriptorsThatAreNumbersOrBooleans_AreKeptBesideAValue()
    {
        var payload = RawJson.Parse("""{"fields":[{"index":3,"required":true,"value":"x"},{"index":3,"note":"x"},{"id":4111111111111111,"value":"x"}]}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be(
            """{"fields":[{"index":3,"required":true,"value":"[redacted:form_value]"},{"index":"[redacted:form_value]","note":"[redacted:form_value]"},{"id":"[redacted:card]","value":"[redacted:form_value]"}]}""");
    }

    [Test]
    public void Redact_FieldWithTwoValueHolders_KeepsItsDescriptors()
    {
        var payload = RawJson.Parse("""{"fields":[{"name":"newsletter","value":"yes","checked":true}]}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"fields":[{"name":"newsletter","value":"[redacted:form_value]","checked":"[redacted:form_value]"}]}""");
    }

    [Test]
    public void Redact_ArrayBesideAFieldsValue_IsStillFormValues()
    {
        var payload = RawJson.Parse("""{"fields":[{"name":"guests","value":"2","choices":["Jane Doe","Joe Bloggs"]}]}""");

        var result = Redactor.Redact(payload, "event_data", formValues: true, new RedactionRecorder(false));

        result.ToString().Should().Be(
            """{"fields":[{"name":"guests","value":"[redacted:form_value]","choices":["[redacted:form_value]","[redacted:form_value]"]}]}""");
    }

    [Test]
    public void Redact_CardNumberTypedIntoAForm_IsOneFormValue()
    {
        var recorder = new RedactionRecorder(false);

        var result = Redactor.Redact(RawJson.Parse("""{"formData":{"n":4111111111111111,"ok":true}}"""), "event_data", formValues: true, recorder);

        result.ToString().Should().Be("""{"formData":{"n":"[redacted:form_value]","ok":"[redacted:form_value]"}}""");
        recorder.Count(PiiKind.FormValue).Should().Be(2);
        recorder.Total.Should().Be(2);
    }

    [Test]
    public void Redact_PropertyAfterASecretObject_HasItsOwnRules()
    {
        var payload = RawJson.Parse("""{"credentials":{"user":"bob"},"plan":"pro","list":[{"a":1}],"b":{"c":{}},"token":"t"}""");

        var result = Redactor.Redact(payload, "event_data", formValues: false, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"credentials":{"user":"[redacted:secret]"},"plan":"pro","list":[{"a":1}],"b":{"c":{}},"token":"[redacted:secret]"}""");
    }

    [Test]
    public void Redact_EmptyStrings_AreKept()
    {
        var payload = RawJson.Parse("""{"password":"","formData":{"email":""},"note":"x@y.com"}""");

        var result = Redactor.Redact(payload, "event_data", formValues: false, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"password":"","formData":{"email":""},"note":"[redacted:email]"}""");
    }

    [Test]
    public void Redact_SeveralRedactedStringsAndNames_EachGetTheirOwnText()
    {
        // Each replacement is written apart: nothing of one value may end up in another.
        var payload = RawJson.Parse(
            """{"a":"call 555-123-4567","jane@example.com":"mail x@y.com today","b":"caf\u00e9","c":"mail \u006aoe@example.com","joe@example.org":1}""");

        var result = Redactor.Redact(payload, "event_data", formValues: false, new RedactionRecorder(false));

        result.ToString().Should().Be(
            """{"a":"call [redacted:phone]","[redacted:email]":"mail [redacted:email] today","b":"caf\u00e9","c":"mail [redacted:email]","[redacted:email]":1}""");
    }

    [Test]
    public void Redact_TextAroundARedactedValue_KeepsItsCharactersUnescaped()
    {
        var result = Redactor.Redact(RawJson.Parse("""{"a":"café + <b> x@y.com"}"""), "event_data", formValues: false, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"a":"café + <b> [redacted:email]"}""");
    }

    [Test]
    public void Redact_NoPayload_ReturnsIt()
    {
        var result = Redactor.Redact(default, "event_data", formValues: false, new RedactionRecorder(false));

        result.IsNull.Should().BeTrue();
    }

    [Test]
    public void TryRedactText_EmptyOrClean_RedactsNothing()
    {
        Redactor.TryRedactText("", "sessionId", recorder: null, out var empty).Should().BeFalse();
        empty.Should().BeNull();
        Redactor.TryRedactText("sess_8f2a9c41", "sessionId", recorder: null, out var clean).Should().BeFalse();
        clean.Should().BeNull();
    }

    [Test]
    public void TryRedactText_RecorderWithoutLocations_CountsButKeepsNoLocation()
    {
        var recorder = new RedactionRecorder(collectLocations: false);

        Redactor.TryRedactText("jane@example.com", "sessionId", recorder, out var redacted).Should().BeTrue();

        redacted.Should().Be("[redacted:email]");
        recorder.Count(PiiKind.Email).Should().Be(1);
        recorder.Locations.Should().BeEmpty();
    }

    [Test]
    public void Redact_CredentialsInAUrl_AreRecordedUnderTheirRule()
    {
        var recorder = new RedactionRecorder(collectLocations: true);

        Redactor.Redact(RawJson.Parse("""{"url":"https://user:pw@example.com/"}"""), "page_data", formValues: false, recorder);

        recorder.Locations.Should().Equal("credentials:page_data.url");
    }

    [Test]
    public void Redact_ManyRedactedLocations_ListsTheFirst256()
    {
        var payload = RawJson.Parse("{" + string.Join(',', Enumerable.Range(0, 300).Select(i => $"\"n{i}\":\"x{i}@example.com\"")) + "}");
        var recorder = new RedactionRecorder(collectLocations: true);

        Redactor.Redact(payload, "event_data", formValues: false, recorder);

        recorder.Count(PiiKind.Email).Should().Be(300);
        recorder.Locations.Should().HaveCount(RedactionRecorder.MaxLocations);
        recorder.Locations[0].Should().Be("email:event_data.n0");
        recorder.Locations[^1].Should().Be("email:event_data.n255");
    }

    [Test]
    public void Redact_DeepPath_IsCutTo200Characters()
    {
        var name = new string('a', 150);
        var payload = RawJson.Parse($$$$"""{"{{{{name}}}}":{"{{{{name}}}}":{"{{{{name}}}}":"x@y.com"}}}""");
        var recorder = new RedactionRecorder(collectLocations: true);

        Redactor.Redact(payload, "event_data", formValues: false, recorder);

        recorder.Locations.Should().ContainSingle().Which.Should().Be("email:" + ("event_data." + name + "." + name)[..200]);
    }

    [Test]
    public void Redact_DefaultSecretKeysTurnedOff_KeepsTheirValuesButStillRedactsPatterns()
    {
        var redactor = new JsonRedactor(new PrivacyOptions { UseDefaultSecretKeys = false });

        var result = redactor.Redact(RawJson.Parse("""{"password":"hunter2","email":"jane@example.com"}"""), "event_data", false, new RedactionRecorder(false));

        result.ToString().Should().Be("""{"password":"hunter2","email":"[redacted:email]"}""");
    }

    [Test]
    public void Redact_StringValueAtRoot_IsRedacted()
    {
        var result = Redactor.Redact(RawJson.Parse("\"granted for jane@example.com\""), "consent", false, new RedactionRecorder(false));

        result.ToString().Should().Be("\"granted for [redacted:email]\"");
    }

    [Test]
    public void Redact_ResultIsValidJsonForEveryCorpusCase()
    {
        foreach (var @case in RedactionCorpus.Cases)
        {
            var (_, output) = Run(@case);
            var act = () => JsonDocument.Parse(output.Utf8).Dispose();
            act.Should().NotThrow(@case.ToString());
        }
    }

    // Adds one per rule whose marker a string (value or property name) holds.
    private static void CountMarkers(JsonElement element, int[] counts)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    CountString(property.Name, counts);
                    CountMarkers(property.Value, counts);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CountMarkers(item, counts);
                }

                break;
            case JsonValueKind.String:
                CountString(element.GetString()!, counts);
                break;
        }

        static void CountString(string text, int[] counts)
        {
            for (var k = 0; k < PiiKinds.Count; k++)
            {
                if (text.Contains($"[redacted:{PiiKinds.Name((PiiKind)k)}]", StringComparison.Ordinal))
                {
                    counts[k]++;
                }
            }
        }
    }

    private static (RawJson Input, RawJson Output) Run(RedactionCase @case)
    {
        var input = Payload(@case.Input);
        var output = Redactor.Redact(input, "event_data", Processor.IsFormEvent(@case.EventType), new RedactionRecorder(collectLocations: true));
        return (input, output);
    }

    // A bare string is the value of a "note" property; JSON text is the payload itself.
    private static RawJson Payload(string text)
    {
        if (text.StartsWith('{'))
        {
            return RawJson.Parse(text);
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("note", text);
            writer.WriteEndObject();
        }

        return RawJson.Parse(stream.ToArray());
    }

    private static string Canonical(RawJson json) =>
        JsonSerializer.Serialize(json.ToJsonElement(), new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static string Slug(string text) =>
        new(text.Take(40).Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
}
