using System.Net;
using Evothesis.Collector.Authorization;
using Evothesis.Collector.Authorization.Internal;
using Microsoft.Extensions.Time.Testing;

namespace Evothesis.Collector.Tests.Authorization;

[TestFixture]
public sealed class LookupBudgetTests
{
    private static readonly IPAddress Alice = IPAddress.Parse("198.51.100.7");
    private static readonly IPAddress Bob = IPAddress.Parse("203.0.113.9");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    [Test]
    public void TryAcquire_ClientBurstSpent_RefusesThatAddressWithRetryAfterOfItsRate()
    {
        var budget = Create(perClientPerSecond: 0.5, burstPerClient: 3);

        var granted = Enumerable.Range(0, 3).Select(_ => budget.TryAcquire(Alice)).ToList();
        var refused = budget.TryAcquire(Alice);

        granted.Should().OnlyContain(d => d.IsGranted);
        refused.IsGranted.Should().BeFalse();
        refused.Scope.Should().Be(LookupBudgetScope.ClientAddress);
        refused.RetryAfter.Should().Be(TimeSpan.FromSeconds(2), "one token comes back every 2 s at 0.5 per second");
    }

    [Test]
    public void TryAcquire_ClientBudgetSpent_OtherAddressesKeepTheirs()
    {
        var budget = Create(burstPerClient: 2);
        budget.TryAcquire(Alice);
        budget.TryAcquire(Alice);

        budget.TryAcquire(Alice).IsGranted.Should().BeFalse();
        budget.TryAcquire(Bob).IsGranted.Should().BeTrue();
    }

    [Test]
    public void TryAcquire_GlobalBurstSpent_RefusesEveryAddressWithGlobalScope()
    {
        var budget = Create(perSecond: 10, burst: 4, burstPerClient: 4);
        for (var i = 0; i < 4; i++)
        {
            budget.TryAcquire(Address(i)).IsGranted.Should().BeTrue();
        }

        var refused = budget.TryAcquire(Address(100));

        refused.IsGranted.Should().BeFalse();
        refused.Scope.Should().Be(LookupBudgetScope.Global);
        refused.RetryAfter.Should().Be(TimeSpan.FromSeconds(1), "Retry-After is whole seconds, at least one");
    }

    [Test]
    public void TryAcquire_RefusedByTheGlobalBudget_DoesNotSpendTheAddresssBudget()
    {
        var budget = Create(burst: 2, perClientPerSecond: 0.001, burstPerClient: 2);
        budget.TryAcquire(Bob);
        budget.TryAcquire(Bob);

        // Alice is refused twice by the global budget; once it refills, her own two lookups are still there.
        budget.TryAcquire(Alice).Scope.Should().Be(LookupBudgetScope.Global);
        budget.TryAcquire(Alice).Scope.Should().Be(LookupBudgetScope.Global);
        _time.Advance(TimeSpan.FromSeconds(2));

        budget.TryAcquire(Alice).IsGranted.Should().BeTrue();
        budget.TryAcquire(Alice).IsGranted.Should().BeTrue();
    }

    [Test]
    public void TryAcquire_TimePasses_RefillsAtTheConfiguredRateUpToTheBurst()
    {
        var budget = Create(perSecond: 2, burst: 4, perClientPerSecond: 2, burstPerClient: 4);
        Spend(budget, null, 4);

        _time.Advance(TimeSpan.FromSeconds(1));
        Spend(budget, null, 2).Should().Be(2);
        budget.TryAcquire(null).IsGranted.Should().BeFalse("two tokens came back in one second");

        _time.Advance(TimeSpan.FromHours(1));
        Spend(budget, null, 10).Should().Be(4, "the bucket holds no more than its burst");
    }

    [Test]
    public void TryAcquire_NoAddress_CountsAgainstTheGlobalBudgetOnly()
    {
        var budget = Create(burst: 20, burstPerClient: 2);

        Spend(budget, null, 20).Should().Be(20);
        budget.TryAcquire(null).Scope.Should().Be(LookupBudgetScope.Global);
        budget.TrackedClients.Should().Be(0);
    }

    [TestCase("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true)]
    [TestCase("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [TestCase("198.51.100.7", "::ffff:198.51.100.7", true)]
    [TestCase("198.51.100.7", "198.51.100.8", false)]
    public void TryAcquire_Addresses_ShareABudgetOnlyWithinOneIPv4AddressOrIPv6Slash64(string first, string second, bool shared)
    {
        var budget = Create(burstPerClient: 1);
        budget.TryAcquire(IPAddress.Parse(first)).IsGranted.Should().BeTrue();

        budget.TryAcquire(IPAddress.Parse(second)).IsGranted.Should().Be(!shared);
    }

    [Test]
    public void Refund_GivesTheLookupBackToBothBudgets()
    {
        var budget = Create(burst: 1, burstPerClient: 1);
        budget.TryAcquire(Alice).IsGranted.Should().BeTrue();

        budget.Refund(Alice);

        budget.TryAcquire(Alice).IsGranted.Should().BeTrue();
    }

    [Test]
    public void TryAcquire_AddressesThatRefilled_AreForgottenAfterAMinute()
    {
        var budget = Create(perClientPerSecond: 1, burstPerClient: 5);
        for (var i = 0; i < 100; i++)
        {
            budget.TryAcquire(Address(i));
        }

        budget.TrackedClients.Should().Be(100);
        _time.Advance(TimeSpan.FromMinutes(1));
        budget.TryAcquire(Alice);

        budget.TrackedClients.Should().Be(1, "a full bucket is no different from a new one");
    }

    [Test]
    public void TryAcquire_TableFullOfAddressesStillSpending_NewAddressesCountAgainstTheGlobalBudgetOnly()
    {
        var budget = new LookupBudget(Options(burst: 1000, burstPerClient: 2), _time, maxTrackedClients: 10);
        for (var i = 0; i < 10; i++)
        {
            budget.TryAcquire(Address(i));
        }

        // An untracked address has no budget of its own to spend, but still spends the global one.
        Spend(budget, Alice, 5).Should().Be(5);
        budget.TrackedClients.Should().Be(10);

        _time.Advance(TimeSpan.FromSeconds(2));
        budget.TryAcquire(Bob).IsGranted.Should().BeTrue();
        budget.TrackedClients.Should().Be(1, "the full buckets were dropped to make room");
    }

    private static IPAddress Address(int i) => new([10, 1, (byte)(i / 256), (byte)(i % 256)]);

    private static LookupBudgetOptions Options(
        double perSecond = 100, int burst = 100, double perClientPerSecond = 1, int burstPerClient = 10) => new()
    {
        PermitsPerSecond = perSecond,
        Burst = burst,
        PermitsPerSecondPerClient = perClientPerSecond,
        BurstPerClient = burstPerClient,
    };

    private static int Spend(LookupBudget budget, IPAddress? address, int attempts) =>
        Enumerable.Range(0, attempts).Count(_ => budget.TryAcquire(address).IsGranted);

    private LookupBudget Create(double perSecond = 1, int burst = 100, double perClientPerSecond = 1, int burstPerClient = 10) =>
        new(Options(perSecond, burst, perClientPerSecond, burstPerClient), _time);
}
