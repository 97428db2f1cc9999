using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// FsCheck generators of <c>/collect</c> bodies: arbitrary JSON documents, and batches built to stress the parser's
/// limits (nesting, inherited envelope fields, long strings, many and repeated keys, unicode, numbers at the edges).
/// </summary>
public static class JsonBodies
{
    // Contract names in both styles, and names that collide with each other once unescaped.
    private static readonly string[] Keys =
    [
        "eventType", "event_type", "eventId", "event_id", "sessionId", "session_id", "siteId", "site_id", "timestamp",
        "sentAt", "sent_at", "pageData", "page_data", "eventData", "event_data", "consent", "events", "a", "b", "url",
        "email", "password", "card", "f0", "f1", "\\u0061", "\u00e9t\u00e9", "\\ud83d\\ude00", "",
    ];

    // Already JSON text: escapes, unicode, values the privacy rules look for, and what the store refuses.
    private static readonly string[] Strings =
    [
        "\"\"", "\"batch\"", "\"BATCH\"", "\"pageview\"", "\"x\"", "\"standard.example\"", "\"gdpr.example\"",
        "\"user@example.com\"", "\"4111 1111 1111 1111\"", "\"+1 (555) 123-4567\"", "\"123-45-6789\"",
        "\"2026-11-26T12:00:00Z\"", "\"https://shop.example/p?email=a@b.co&q=1\"", "\"\\u0000\"", "\"\\ud800\"",
        "\"\\udc00x\"", "\"\\ud83d\\ude00\"", "\"\u00e9\u00e8\u4e2d\u6587\"", "\"\ud83d\ude00\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        "\"granted\"", "\"denied\"",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "0.5", "1e308", "1.7976931348623157e308", "1e309", "-1e400", "1E-400", "4.9e-324",
        "9007199254740993", "123456789012345678901234567890", "1" + new string('0', 300), "1700000000000", "1700000000",
    ];

    /// <summary>Gets bodies of every shape, valid or not, batches more often than not.</summary>
    public static Gen<string> Any() =>
        Gen.Frequency(
            (4, Batch()),
            (3, SingleEvent()),
            (2, Value(4)),
            (1, Garbage()));

    /// <summary>Gets a batch envelope whose members inherit its fields.</summary>
    public static Gen<string> Batch() =>
        from inherited in Gen.Frequency((4, Members(6)), (1, ManyFields()))
        from members in Gen.Choose(0, 40).SelectMany(n => Gen.ListOf(ObjectOf(3, 5), n))
        from repeat in Gen.Choose(1, 30)
        from typeFirst in Gen.Elements(true, false)
        select BuildBatch(inherited, members, repeat, typeFirst);

    /// <summary>Gets one event: an object with an eventType and arbitrary fields.</summary>
    public static Gen<string> SingleEvent() =>
        from fields in Members(8)
        from type in Gen.OneOf(Gen.Elements(Strings), Scalar())
        select "{\"eventType\":" + type + (fields.Length > 0 ? "," + fields : string.Empty) + "}";

    private static string BuildBatch(string inherited, List<string> members, int repeat, bool typeFirst)
    {
        var all = new StringBuilder();
        for (var r = 0; r < repeat; r++)
        {
            foreach (var member in members)
            {
                all.Append(all.Length > 0 ? "," : string.Empty).Append(member);
            }
        }

        var head = typeFirst ? "\"eventType\":\"batch\"," : string.Empty;
        var tail = typeFirst ? string.Empty : ",\"eventType\":\"batch\"";
        return "{" + head + (inherited.Length > 0 ? inherited + "," : string.Empty) + "\"events\":[" + all + "]" + tail + "}";
    }

    // The attack's shape: an envelope with thousands of small fields every member would inherit.
    private static Gen<string> ManyFields() =>
        from count in Gen.Choose(100, 5000)
        from distinct in Gen.Elements(true, false)
        select string.Join(",", Enumerable.Range(0, count).Select(i => distinct ? $"\"f{i}\":1" : "\"f\":1"));

    // A comma-separated list of members (no braces), with repeated and colliding names.
    private static Gen<string> Members(int max) =>
        from count in Gen.Choose(0, max)
        from pairs in Gen.ListOf(Pair(3), count)
        select string.Join(",", pairs);

    private static Gen<string> Pair(int depth) =>
        from key in Gen.OneOf(Gen.Elements(Keys), Text())
        from value in Value(depth)
        select "\"" + key + "\":" + value;

    private static Gen<string> ObjectOf(int depth, int max) =>
        from members in Members(max)
        from type in Gen.Elements("\"eventType\":\"click\",", "\"event_type\":\"pageview\",", "\"eventType\":\"batch\",", string.Empty)
        select "{" + (members.Length > 0 ? type + members : type.TrimEnd(',')) + "}";

    private static Gen<string> Value(int depth)
    {
        if (depth <= 0)
        {
            return Scalar();
        }

        return Gen.Frequency(
            (6, Scalar()),
            (2, Gen.Choose(0, 4).SelectMany(n => Gen.ListOf(Pair(depth - 1), n)).Select(p => "{" + string.Join(",", p) + "}")),
            (1, Gen.Choose(0, 4).SelectMany(n => Gen.ListOf(Value(depth - 1), n)).Select(v => "[" + string.Join(",", v) + "]")),
            (1, Deep()));
    }

    private static Gen<string> Scalar() =>
        Gen.Frequency(
            (4, Gen.Elements(Strings)),
            (3, Text().Select(t => "\"" + t + "\"")),
            (3, Gen.Elements(Numbers)),
            (1, Gen.Choose(int.MinValue, int.MaxValue).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            (1, Gen.Elements("true", "false", "null")),
            (1, Gen.Choose(200, 9000).Select(n => "\"" + new string('y', n) + "\"")));

    // Nesting around the depth limit.
    private static Gen<string> Deep() =>
        Gen.Choose(1, 40).Select(n => new string('[', n) + "1" + new string(']', n));

    // Arbitrary UTF-16 text, escaped as JSON string content (lone surrogates as \u escapes).
    private static Gen<string> Text() =>
        from length in Gen.Choose(0, 24)
        from chars in Gen.ArrayOf(Gen.Frequency((6, Gen.Choose(0x20, 0x7E)), (2, Gen.Choose(0, 0x1F)), (2, Gen.Choose(0x80, 0xFFFF))), length)
        select Escape(chars);

    private static Gen<string> Garbage() =>
        Gen.Elements(
            string.Empty, "{", "}", "[]", "null", "\"batch\"", "{\"eventType\":\"batch\",\"events\":[", "{\"eventType\":}",
            "{\"a\":1}{\"b\":2}", "\uFEFF{\"eventType\":\"x\"}", "{'eventType':'x'}", "{\"eventType\":\"x\",}", "{\"eventType\":\"x\" /* c */}");

    private static string Escape(int[] chars)
    {
        var text = new StringBuilder(chars.Length);
        foreach (var c in chars)
        {
            if (c < 0x20 || c == '"' || c == '\\' || c is >= 0xD800 and <= 0xDFFF)
            {
                text.Append("\\u").Append(c.ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append((char)c);
            }
        }

        return text.ToString();
    }
}
