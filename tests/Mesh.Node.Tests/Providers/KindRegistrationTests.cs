using Mesh.Node.Converge;
using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Tests.Providers;

/// <summary>The kinds a manifest may use and the providers a node applies them with are the same set, each once.</summary>
public sealed class KindRegistrationTests
{
    [Fact]
    public void Every_kind_the_protocol_knows_has_a_provider_and_every_provider_a_known_kind()
    {
        var kinds = ResourceKinds.Names.ToHashSet(StringComparer.Ordinal);
        var provided = ApplyEngine.Default().Kinds.ToHashSet(StringComparer.Ordinal);

        Assert.Empty(kinds.Except(provided));
        Assert.Empty(provided.Except(kinds));
        Assert.Equal(8, kinds.Count);
    }

    [Fact]
    public void Two_providers_for_one_kind_are_refused_when_the_engine_is_built()
    {
        var e = Assert.Throws<ArgumentException>(() => new ApplyEngine([new FileProvider(), new DirectoryProvider(), new FileProvider()]));

        Assert.StartsWith("two providers for resource kind 'file': FileProvider and FileProvider", e.Message);
    }
}
