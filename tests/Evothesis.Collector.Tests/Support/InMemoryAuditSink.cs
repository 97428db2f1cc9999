using System.Collections.Concurrent;
using Evothesis.Collector.Audit;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Keeps the audit records it is given; can be told to fail.</summary>
public sealed class InMemoryAuditSink : IAuditSink
{
    private readonly ConcurrentQueue<IReadOnlyList<AuditRecord>> _writes = new();

    public string Name => "in-memory-audit";

    public bool Fail { get; set; }

    public Action? OnWrite { get; set; }

    public IReadOnlyList<IReadOnlyList<AuditRecord>> Writes => _writes.ToArray();

    public IReadOnlyList<AuditRecord> Records => _writes.SelectMany(w => w).ToArray();

    public ValueTask WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        OnWrite?.Invoke();
        if (Fail)
        {
            throw new IOException("The audit sink was told to fail.");
        }

        _writes.Enqueue(records.ToArray());
        return ValueTask.CompletedTask;
    }
}
