using Akka.Configuration;
using Mesh.Node.Configuration;

namespace Mesh.Node.Tests.Configuration;

/// <summary>The embedded cluster.hocon means what its comments say.</summary>
public sealed class NodeSettingsTests
{
    private static NodeSettings Embedded(string over = "") =>
        NodeSettings.From(ConfigurationFactory.ParseString(over).WithFallback(NodeConfig.Embedded()));

    [Fact]
    public void The_embedded_defaults_read_as_documented()
    {
        var settings = Embedded("mesh.name = n");

        Assert.Equal(TimeSpan.FromHours(1), settings.GcInterval);
        Assert.Equal(TimeSpan.FromHours(1), settings.GcGrace);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.RecheckInterval);
        Assert.Equal(50, settings.HistoryKeep);
        Assert.False(settings.Trust.Enforced);
    }

    [Fact]
    public void A_trusted_key_that_is_not_a_key_is_a_configuration_error_naming_it()
    {
        var e = Assert.Throws<ConfigurationException>(() => Embedded("mesh.name = n\nmesh.trusted-keys { alice = \"not a key at all\" }"));
        Assert.Contains("mesh.trusted-keys.alice", e.Message);
    }
}
