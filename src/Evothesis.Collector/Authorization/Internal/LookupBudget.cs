using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Evothesis.Collector.Authorization.Internal;

/// <summary>
/// The budget of uncached pixel-management lookups (<see cref="LookupBudgetOptions"/>): a global token bucket and one
/// per client address, all on the <see cref="TimeProvider"/>'s timestamps.
/// </summary>
/// <remarks>
/// The table of client buckets is bounded (<see cref="DefaultMaxTrackedClients"/> addresses by default, about 50 bytes each). A full
/// bucket is no different from a new one, so full buckets are dropped once a minute and whenever the table is full.
/// When it is still full (more addresses spending lookups at once than it holds), a new address counts against the
/// global budget only: the global bucket bounds the upstream calls whatever the number of addresses.
/// </remarks>
internal sealed class LookupBudget
{
    /// <summary>The most client addresses whose buckets are held at once.</summary>
    public const int DefaultMaxTrackedClients = 65_536;

    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan FullTablePruneInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinimumRetryAfter = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly TokenBucketLimits _globalLimits;
    private readonly TokenBucketLimits _clientLimits;
    private readonly int _maxTrackedClients;
    private readonly long _pruneInterval;
    private readonly long _fullTablePruneInterval;
    private readonly Lock _lock = new();

    // Everything below is guarded by _lock. Only uncached lookups come here, so the lock is not on the hot path of
    // known domains.
    private readonly Dictionary<ClientKey, TokenBucket> _clients = [];
    private TokenBucket _global;
    private long _nextPruneAt;
    private long _nextFullTablePruneAt;

    public LookupBudget(LookupBudgetOptions options, TimeProvider time, int maxTrackedClients = DefaultMaxTrackedClients)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTrackedClients);
        _time = time;
        var frequency = time.TimestampFrequency;
        _globalLimits = new TokenBucketLimits(options.PermitsPerSecond, options.Burst, frequency);
        _clientLimits = new TokenBucketLimits(options.PermitsPerSecondPerClient, options.BurstPerClient, frequency);
        _maxTrackedClients = maxTrackedClients;
        _pruneInterval = (long)(PruneInterval.TotalSeconds * frequency);
        _fullTablePruneInterval = (long)(FullTablePruneInterval.TotalSeconds * frequency);
        var now = time.GetTimestamp();
        _global = TokenBucket.Full(_globalLimits, now);
        _nextPruneAt = now + _pruneInterval;
    }

    /// <summary>Gets the number of client addresses whose buckets are held.</summary>
    public int TrackedClients
    {
        get
        {
            lock (_lock)
            {
                return _clients.Count;
            }
        }
    }

    /// <summary>Takes one lookup from the client address's budget and from the global one.</summary>
    /// <param name="clientAddress">The sender's address; <see langword="null"/> counts against the global budget only.</param>
    /// <returns>The grant, or which budget is spent and when to retry.</returns>
    public LookupBudgetDecision TryAcquire(IPAddress? clientAddress)
    {
        var key = ClientKey.From(clientAddress);
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (now >= _nextPruneAt)
            {
                Prune(now);
                _nextPruneAt = now + _pruneInterval;
            }

            var charged = false;
            if (key is { } client && Track(client, now))
            {
                ref var bucket = ref CollectionsMarshal.GetValueRefOrNullRef(_clients, client);
                if (!bucket.TryTake(_clientLimits, now, out var clientWait))
                {
                    return LookupBudgetDecision.Refused(LookupBudgetScope.ClientAddress, RetryAfter(clientWait));
                }

                charged = true;
            }

            if (!_global.TryTake(_globalLimits, now, out var globalWait))
            {
                if (charged)
                {
                    // The address's lookup was not made: it keeps its token.
                    CollectionsMarshal.GetValueRefOrNullRef(_clients, key!.Value).Return(_clientLimits, now);
                }

                return LookupBudgetDecision.Refused(LookupBudgetScope.Global, RetryAfter(globalWait));
            }

            return LookupBudgetDecision.Granted;
        }
    }

    /// <summary>Gives back a lookup granted by <see cref="TryAcquire"/> that was not made after all.</summary>
    /// <param name="clientAddress">The address the grant was for.</param>
    public void Refund(IPAddress? clientAddress)
    {
        var key = ClientKey.From(clientAddress);
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            _global.Return(_globalLimits, now);
            if (key is { } client)
            {
                ref var bucket = ref CollectionsMarshal.GetValueRefOrNullRef(_clients, client);
                if (!Unsafe.IsNullRef(ref bucket))
                {
                    bucket.Return(_clientLimits, now);
                }
            }
        }
    }

    // Whole seconds, at least one: what Retry-After can say, and no sooner than a token is there.
    private static TimeSpan RetryAfter(TimeSpan wait) =>
        wait <= MinimumRetryAfter ? MinimumRetryAfter : TimeSpan.FromSeconds(Math.Ceiling(wait.TotalSeconds));

    // Makes sure the address has a bucket, unless the table is full of addresses still spending their budget.
    private bool Track(ClientKey client, long now)
    {
        if (_clients.ContainsKey(client))
        {
            return true;
        }

        if (_clients.Count >= _maxTrackedClients)
        {
            // Pruning walks the whole table: while it stays full, at most once a second.
            if (now < _nextFullTablePruneAt)
            {
                return false;
            }

            _nextFullTablePruneAt = now + _fullTablePruneInterval;
            Prune(now);
            if (_clients.Count >= _maxTrackedClients)
            {
                return false;
            }
        }

        _clients.Add(client, TokenBucket.Full(_clientLimits, now));
        return true;
    }

    private void Prune(long now)
    {
        foreach (var (client, bucket) in _clients)
        {
            if (bucket.IsFull(_clientLimits, now))
            {
                _clients.Remove(client);
            }
        }
    }

    /// <summary>
    /// The budget key of an address: an IPv4 address, or the /64 network of an IPv6 one (one subscriber usually holds a
    /// whole /64, so per-address budgets would be per-attacker unlimited). IPv4-mapped IPv6 addresses are IPv4.
    /// </summary>
    internal readonly record struct ClientKey(ulong Value, bool IsIPv6)
    {
        public static ClientKey? From(IPAddress? address)
        {
            if (address is null)
            {
                return null;
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            Span<byte> bytes = stackalloc byte[16];
            if (!address.TryWriteBytes(bytes, out var written))
            {
                return null;
            }

            return address.AddressFamily == AddressFamily.InterNetwork && written == 4
                ? new ClientKey(BinaryPrimitives.ReadUInt32BigEndian(bytes), IsIPv6: false)
                : new ClientKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), IsIPv6: true);
        }
    }
}

/// <summary>The answer of <see cref="LookupBudget.TryAcquire"/>.</summary>
internal readonly record struct LookupBudgetDecision(bool IsGranted, LookupBudgetScope Scope, TimeSpan RetryAfter)
{
    public static LookupBudgetDecision Granted => new(true, default, TimeSpan.Zero);

    public static LookupBudgetDecision Refused(LookupBudgetScope scope, TimeSpan retryAfter) => new(false, scope, retryAfter);
}
