using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>A directory's ownership and purge settings.</summary>
public sealed class DirectoryFieldsTests
{
    [Fact]
    public void Owner_group_and_purge_are_read_and_survive_the_canonical_form()
    {
        var manifest = Parse(OneResource("{id: d, type: directory, path: /srv, owner: www-data, group: '33', purge: true, force: true}"));

        var d = (DirectoryResource)Assert.Single(manifest.Resources);
        Assert.Equal(("www-data", "33", true, true), (d.Owner, d.Group, d.Purge, d.Force));
        var again = (DirectoryResource)CanonicalForm.FromBytes(CanonicalForm.ToBytes(manifest), "canonical").Resources[0];
        Assert.Equal((d.Owner, d.Group, d.Purge), (again.Owner, again.Group, again.Purge));
    }

    [Theory]
    [InlineData("{id: d, type: directory, path: /srv, ensure: absent, owner: root}", "ensure", "an absent directory takes no mode, owner or group")]
    [InlineData("{id: d, type: directory, path: /srv, ensure: absent, purge: true}", "purge", "an absent directory cannot be purged")]
    [InlineData("{id: d, type: directory, path: /, purge: true}", "purge", "the root itself cannot be purged")]
    public void Contradictions_are_refused(string flow, string field, string says)
    {
        var error = OnlyErrorIn(OneResource(flow));
        Assert.Equal($"resources[0] (d).{field}", error.Field);
        Assert.Contains(says, error.Message);
    }
}
