using Akka.Configuration;
using Akka.Event;
using Mesh.Node.Configuration;

namespace Mesh.Node.Tests.Configuration;

/// <summary>What a reload can apply, what it names as needing a restart, and how it describes a change.</summary>
public class LiveSettingsTests
{
    private const string AliceKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAElQbG7pZnmHAaZf9oP6az1ymJCgulOJcQjAIX4rhK0XN2vmWfqZcdqq3nNTC/JPTHvuKPaOs/Xl48ws70TkdwYg==";

    private static Config Layer(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(NodeConfig.Embedded());

    private static ReloadableSettings Reloadable(Config config) => ReloadableSettings.From(NodeSettings.From(config), config);

    [Fact]
    public void Trust_list_interval_jitter_and_log_level_are_reloadable_and_described_when_they_change()
    {
        var before = Reloadable(Layer("mesh.name = n1"));
        var after = Reloadable(Layer($"mesh {{ name = n1\n converge {{ interval = 30s\n jitter = 0.2 }}\n trusted-keys {{ alice = \"{AliceKey}\" }} }}\nakka.loglevel = WARNING"));

        Assert.True(after.Trust.Enforced);
        Assert.Equal(LogLevel.WarningLevel, after.LogLevel);
        var changes = after.ChangesFrom(before);
        Assert.Equal(4, changes.Count);
        Assert.StartsWith("trust list: none (unsigned changes accepted) -> alice (", changes[0]);
        Assert.Contains("mesh.converge.interval: 00:05:00 -> 00:00:30", changes);
        Assert.Contains("akka.loglevel: INFO -> WARNING", changes);
        Assert.Empty(after.ChangesFrom(after));
    }

    [Fact]
    public void Keys_a_reload_cannot_apply_are_named_and_reloadable_ones_are_not()
    {
        var running = Layer("mesh { name = n1\n port = 4710 }");
        var reread = Layer($"mesh {{ name = n1\n port = 4800\n converge.interval = 1m\n trusted-keys {{ alice = \"{AliceKey}\" }}\n audit.keep = 3 }}\nakka.loglevel = DEBUG");

        Assert.Equal(new[] { "mesh.audit.keep", "mesh.port" }, ReloadableSettings.RestartOnly(running, reread));
        Assert.Empty(ReloadableSettings.RestartOnly(running, Layer("mesh { name = n1\n port = 4710 }")));
    }

    [Fact]
    public void An_unknown_log_level_is_a_configuration_error()
    {
        var config = Layer("akka.loglevel = LOUD");
        Assert.Throws<ConfigurationException>(() => Reloadable(config));
    }
}
