using Evothesis.Collector.Batching;
using Evothesis.Collector.Batching.Internal;
using Evothesis.Collector.Sinks;
using Evothesis.Collector.Sinks.PostgreSql;
using Evothesis.Collector.Sinks.PostgreSql.Internal;
using Evothesis.Collector.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Evothesis.Collector.Tests.Sinks.PostgreSql;

public sealed class PostgreSqlCollectorBuilderExtensionsTests
{
    [Test]
    public void AddPostgreSqlSink_NoConnectionAnywhere_FailsNamingTheSettings()
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector().AddPostgreSqlSink();
        using var provider = services.BuildServiceProvider();

        var resolve = () => provider.GetServices<IEventSink>().ToArray();

        resolve.Should().Throw<InvalidOperationException>()
            .WithMessage("*ConnectionStrings:Evothesis*ConnectionStrings__Evothesis*NpgsqlDataSource*");
    }

    [Test]
    public async Task AddPostgreSqlSink_ConnectionStringsEvothesisInConfiguration_IsUsed()
    {
        var connectionString = await PostgresTestServer.CreateDatabaseAsync();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Evothesis"] = connectionString,
                ["Evothesis:PostgreSql:EventsTable"] = "from_config",
            })
            .Build());
        services.AddEvothesisCollector().AddPostgreSqlSink();
        await using var provider = services.BuildServiceProvider();

        var sink = provider.GetServices<IEventSink>().OfType<PostgreSqlEventSink>().Single();
        await sink.WriteAsync(TestEvents.Batch(TestEvents.Create()), CancellationToken.None);

        sink.Name.Should().Be("postgresql:from_config");
        await using var check = NpgsqlDataSource.Create(connectionString);
        await using var count = check.CreateCommand("SELECT count(*) FROM from_config");
        ((long)(await count.ExecuteScalarAsync())!).Should().Be(1);
    }

    [Test]
    public async Task AddPostgreSqlSink_HostRegisteredDataSource_IsSharedAndNotDisposed()
    {
        var connectionString = await PostgresTestServer.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var services = new ServiceCollection();
        services.AddSingleton(dataSource);
        services.AddEvothesisCollector().AddPostgreSqlSink();
        var provider = services.BuildServiceProvider();

        provider.GetRequiredService<PostgreSqlConnectionSource>().DataSource.Should().BeSameAs(dataSource);
        await provider.DisposeAsync();

        await using var command = dataSource.CreateCommand("SELECT 1");
        ((int)(await command.ExecuteScalarAsync())!).Should().Be(1);
    }

    [Test]
    public async Task AddPostgreSqlSink_ExplicitConnectionString_WinsOverARegisteredDataSource()
    {
        var explicitDatabase = await PostgresTestServer.CreateDatabaseAsync();
        await using var other = NpgsqlDataSource.Create(await PostgresTestServer.CreateDatabaseAsync());
        var services = new ServiceCollection();
        services.AddSingleton(other);
        services.AddEvothesisCollector().AddPostgreSqlSink(explicitDatabase);
        await using var provider = services.BuildServiceProvider();

        var used = provider.GetRequiredService<PostgreSqlConnectionSource>().DataSource;

        used.Should().NotBeSameAs(other);
        new NpgsqlConnectionStringBuilder(used.ConnectionString).Database
            .Should().Be(new NpgsqlConnectionStringBuilder(explicitDatabase).Database);
    }

    [Test]
    public void AddPostgreSqlSink_CalledTwice_RegistersOneSinkAndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();
        var collector = services.AddEvothesisCollector();
        collector.AddPostgreSqlSink("Host=127.0.0.1;Database=x", o => o.Schema = "analytics");
        collector.AddPostgreSqlSink(o => o.PartitionsAhead = 2);
        using var provider = services.BuildServiceProvider();

        provider.GetServices<IEventSink>().OfType<PostgreSqlEventSink>().Should().ContainSingle();
        var options = provider.GetRequiredService<IOptions<PostgreSqlSinkOptions>>().Value;
        options.Schema.Should().Be("analytics");
        options.PartitionsAhead.Should().Be(2);
    }

    [Test]
    public void GetDeliveryPolicy_Defaults_WhatIsWaitingUpTo5000EventsFourInFlight()
    {
        var policy = PolicyFrom(new Dictionary<string, string?>(), new BatchingOptions());

        policy.Should().Be(new DeliveryPolicy(5000, 16L * 1024 * 1024, TimeSpan.FromMilliseconds(10), 4));
    }

    [Test]
    public void GetDeliveryPolicy_Configured_FollowsTheSinksSettingsNotTheBatchSize()
    {
        var policy = PolicyFrom(
            new Dictionary<string, string?>
            {
                ["Evothesis:PostgreSql:MaxBatchEvents"] = "20000",
                ["Evothesis:PostgreSql:MaxInFlight"] = "8",
                ["Evothesis:PostgreSql:MaxBatchAge"] = "00:00:00.050",
            },
            new BatchingOptions { BatchSize = 100 });

        (policy.MaxEvents, policy.MaxInFlight, policy.MaxAge).Should().Be((20000, 8, TimeSpan.FromMilliseconds(50)));
    }

    [Test]
    public void GetDeliveryPolicy_WriteConnectionsOfAnOlderConfiguration_IsTheNumberInFlight()
    {
        var policy = PolicyFrom(new Dictionary<string, string?> { ["Evothesis:PostgreSql:WriteConnections"] = "3" }, new BatchingOptions());

        policy.MaxInFlight.Should().Be(3);
    }

    [Test]
    public void GetDeliveryPolicy_CommittedMode_DoesNotWaitForABatchToFill()
    {
        var policy = PolicyFrom(new Dictionary<string, string?>(), new BatchingOptions { AckMode = AckMode.Committed });

        policy.MaxAge.Should().Be(TimeSpan.Zero);
    }

    private static DeliveryPolicy PolicyFrom(Dictionary<string, string?> settings, BatchingOptions batching)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddEvothesisCollector().AddPostgreSqlSink("Host=127.0.0.1;Database=x");
        using var provider = services.BuildServiceProvider();
        var sink = provider.GetServices<IEventSink>().OfType<IDeliveryPolicySource>().Single();
        return sink.GetDeliveryPolicy(batching);
    }

    [TestCase("Events")]
    [TestCase("events; DROP TABLE x")]
    [TestCase("a_table_name_that_is_longer_than_forty_chars")]
    public void AddPostgreSqlSink_InvalidEventsTableName_FailsValidation(string name)
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector().AddPostgreSqlSink("Host=127.0.0.1", o => o.EventsTable = name);
        using var provider = services.BuildServiceProvider();

        var read = () => provider.GetRequiredService<IOptions<PostgreSqlSinkOptions>>().Value;

        read.Should().Throw<OptionsValidationException>().WithMessage("*EventsTable*");
    }

    [TestCase(0)]
    [TestCase(65)]
    public void AddPostgreSqlSink_MaxInFlightOutOfRange_FailsValidation(int inFlight)
    {
        var read = OptionsOf(o => o.MaxInFlight = inFlight);

        read.Should().Throw<OptionsValidationException>().WithMessage("*MaxInFlight*");
    }

    [TestCase(0)]
    [TestCase(100_001)]
    public void AddPostgreSqlSink_MaxBatchEventsOutOfRange_FailsValidation(int events)
    {
        var read = OptionsOf(o => o.MaxBatchEvents = events);

        read.Should().Throw<OptionsValidationException>().WithMessage("*MaxBatchEvents*");
    }

    [TestCase(-1)]
    [TestCase(10_001)]
    public void AddPostgreSqlSink_MaxBatchAgeOutOfRange_FailsValidationNamingIt(int milliseconds)
    {
        var read = OptionsOf(o => o.MaxBatchAge = TimeSpan.FromMilliseconds(milliseconds));

        read.Should().Throw<OptionsValidationException>().WithMessage("*MaxBatchAge*must be between*");
    }

    [TestCase(0)]
    [TestCase(65)]
    public void AddPostgreSqlSink_WriteConnectionsOutOfRange_FailsValidation(int connections)
    {
        var read = OptionsOf(o => o.WriteConnections = connections);

        read.Should().Throw<OptionsValidationException>().WithMessage("*WriteConnections*");
    }

    [Test]
    public void AddPostgreSqlSink_WriteConnectionsAndAnotherMaxInFlight_FailsValidationNamingBoth()
    {
        var read = OptionsOf(o => (o.WriteConnections, o.MaxInFlight) = (2, 8));

        read.Should().Throw<OptionsValidationException>().WithMessage("*WriteConnections (2)*MaxInFlight (8)*");
    }

    private static Func<PostgreSqlSinkOptions> OptionsOf(Action<PostgreSqlSinkOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector().AddPostgreSqlSink("Host=127.0.0.1", configure);
        var provider = services.BuildServiceProvider();
        return () =>
        {
            using (provider)
            {
                return provider.GetRequiredService<IOptions<PostgreSqlSinkOptions>>().Value;
            }
        };
    }

    [Test]
    public void AddPostgreSqlSink_SameEventsAndAuditTable_FailsValidation()
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector().AddPostgreSqlSink("Host=127.0.0.1", o => o.AuditTable = "events");
        using var provider = services.BuildServiceProvider();

        var read = () => provider.GetRequiredService<IOptions<PostgreSqlSinkOptions>>().Value;

        read.Should().Throw<OptionsValidationException>().WithMessage("*must differ*'events'*");
    }

    [Test]
    public void AddPostgreSqlSink_InvalidConnectionString_FailsWithoutQuotingIt()
    {
        var services = new ServiceCollection();
        services.AddEvothesisCollector().AddPostgreSqlSink("Host=127.0.0.1;Password=hunter2;NotAKeyword=1");
        using var provider = services.BuildServiceProvider();

        var resolve = () => provider.GetRequiredService<PostgreSqlConnectionSource>();

        resolve.Should().Throw<InvalidOperationException>().Which.ToString().Should().NotContain("hunter2");
    }
}
