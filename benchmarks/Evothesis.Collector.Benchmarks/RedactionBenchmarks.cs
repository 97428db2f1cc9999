using BenchmarkDotNet.Attributes;
using Evothesis.Collector.Events;
using Evothesis.Collector.Privacy;
using Evothesis.Collector.Privacy.Internal;

namespace Evothesis.Collector.Benchmarks;

/// <summary>
/// The cost of redaction per payload: payloads without personal data (the common case, which must cost no
/// allocation) and payloads that need rewriting (a form submission, a note with an email and a card number).
/// </summary>
[MemoryDiagnoser]
public class RedactionBenchmarks
{
    private readonly JsonRedactor _redactor = new(new PrivacyOptions());
    private readonly RedactionRecorder _recorder = new(collectLocations: false);
    private RawJson _pageview;
    private RawJson _click;
    private RawJson _purchase;
    private RawJson _formSubmit;
    private RawJson _noteWithPii;

    [GlobalSetup]
    public void Setup()
    {
        _pageview = RawJson.Parse("""{"url":"https://shop.acme.com/catalog?q=shoes&page=2","title":"Catalog","referrer":"https://www.google.com/","path":"/catalog"}""");
        _click = RawJson.Parse("""{"tagName":"button","id":"add-to-cart-17","classes":"btn btn-primary","text":"Add to cart","position":{"x":412,"y":88}}""");
        _purchase = RawJson.Parse("""{"order_id":"ORD-12345","value":299.99,"currency":"USD","items":[{"product_id":"SKU-88412","price":149.99,"quantity":2,"added":"2026-11-26T11:59:58.123Z"}]}""");
        _formSubmit = RawJson.Parse("""{"formId":"contact","formAction":"https://shop.acme.com/contact","formMethod":"post","formData":{"name":"Jane Doe","email":"jane@example.com","message":"Hello, please call me","newsletter":true}}""");
        _noteWithPii = RawJson.Parse("""{"order_id":"ORD-12345","note":"Receipt to jane@example.com, paid with 4111 1111 1111 1111","value":299.99}""");
    }

    [Benchmark(Baseline = true)]
    public RawJson CleanPageview() => _redactor.Redact(_pageview, "page_data", formValues: false, _recorder);

    [Benchmark]
    public RawJson CleanClick() => _redactor.Redact(_click, "event_data", formValues: false, _recorder);

    [Benchmark]
    public RawJson CleanPurchase() => _redactor.Redact(_purchase, "event_data", formValues: false, _recorder);

    [Benchmark]
    public RawJson FormSubmit() => _redactor.Redact(_formSubmit, "event_data", formValues: true, _recorder);

    [Benchmark]
    public RawJson NoteWithEmailAndCard() => _redactor.Redact(_noteWithPii, "event_data", formValues: false, _recorder);
}
