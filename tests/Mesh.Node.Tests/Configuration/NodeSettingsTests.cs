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
    public void Clocks_default_to_a_30_second_bound_5_second_probes_and_no_shift_and_a_shift_may_be_negative()
    {
        Assert.Equal(new ClockSettings(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), TimeSpan.Zero), Embedded("mesh.name = n").Clock);
        Assert.Equal(TimeSpan.FromMinutes(-5), Embedded("mesh.name = n\nmesh.clock.offset = -5m").Clock.Offset);
        Assert.Equal(TimeSpan.FromSeconds(90), Embedded("mesh.name = n\nmesh.clock.offset = 90s").Clock.Offset);
    }

    [Fact]
    public void A_clock_setting_out_of_range_is_a_configuration_error_naming_it()
    {
        Assert.Contains("mesh.clock.offset", Assert.Throws<ConfigurationException>(() => Embedded("mesh.name = n\nmesh.clock.offset = soon")).Message);
        Assert.Contains("mesh.clock.max-skew", Assert.Throws<ConfigurationException>(() => Embedded("mesh.name = n\nmesh.clock.max-skew = 10ms")).Message);
    }

    [Fact]
    public void A_trusted_key_that_is_not_a_key_is_a_configuration_error_naming_it()
    {
        var e = Assert.Throws<ConfigurationException>(() => Embedded("mesh.name = n\nmesh.trusted-keys { alice = \"not a key at all\" }"));
        Assert.Contains("mesh.trusted-keys.alice", e.Message);
    }

    [Fact]
    public void A_plain_trusted_key_may_push_only_and_an_entry_with_allow_says_what_it_may_sign()
    {
        using var alice = Mesh.Protocol.Signing.SigningKey.Generate();
        using var bob = Mesh.Protocol.Signing.SigningKey.Generate();
        var settings = Embedded($"mesh.name = n\nmesh.trusted-keys {{\n  bob = \"{bob.Public.Spki}\"\n  alice {{ key = \"{alice.Public.Spki}\", allow = [tasks] }}\n}}");
        var entries = settings.Trust.Entries.ToDictionary(e => e.Name, e => e.Allows);
        Assert.Equal(Mesh.Protocol.Signing.TrustPermission.Push, entries["bob"]);
        Assert.Equal(Mesh.Protocol.Signing.TrustPermission.Tasks, entries["alice"]);
        Assert.False(settings.Tasks.Enabled);

        var e = Assert.Throws<ConfigurationException>(() => Embedded($"mesh.name = n\nmesh.trusted-keys {{ alice {{ key = \"{alice.Public.Spki}\", allow = [reboot] }} }}"));
        Assert.Contains("mesh.trusted-keys.alice.allow: 'reboot' is not a permission", e.Message);
        e = Assert.Throws<ConfigurationException>(() => Embedded("mesh.name = n\nmesh.trusted-keys { alice { allow = [tasks] } }"));
        Assert.Contains("mesh.trusted-keys.alice.key: missing", e.Message);
    }

    [Fact]
    public void A_config_file_the_hocon_parser_refuses_is_a_configuration_error_naming_the_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"mesh-bad-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, "mesh { name = ${nowhere} }\n");
        try
        {
            var e = Assert.Throws<ConfigurationException>(() => NodeConfig.Load(file));
            Assert.Contains(file, e.Message);
            Assert.Contains("nowhere", e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("mesh.name = n\nmesh.port = \n")]
    [InlineData("mesh = [\n")]
    public void A_value_the_reader_cannot_take_is_a_configuration_error_not_a_crash(string hocon)
    {
        var e = Assert.Throws<ConfigurationException>(() => Embedded(hocon));
        Assert.Contains("--config", e.Message);
    }
}
