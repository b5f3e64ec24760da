using System.Text;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>The <c>package</c> kind: its fields, their validation and its canonical form.</summary>
public sealed class PackageResourceTests
{
    private static PackageResource OnlyPackage(string yaml) => (PackageResource)Assert.Single(Parse(yaml).Resources);

    private static void AssertPackageError(string flow, string field, string at, string says) =>
        AssertResourceError(flow, $"resources[0] (pkg).{field}", at, says);

    private const string Full = """
        manifest: web
        resources:
          - id: pkg
            type: package
            name: mesh-agent
            version: "1:2.0~rc1-3"
            deb: /var/cache/mesh/mesh-agent_2.0_all.deb
        """;

    [Fact]
    public void Every_field_is_read()
    {
        var p = OnlyPackage(Full);

        Assert.Equal(("pkg", "package", "mesh-agent", Ensure.Present, "1:2.0~rc1-3", "/var/cache/mesh/mesh-agent_2.0_all.deb"),
            (p.Id, p.Kind, p.Name, p.Ensure, p.Version, p.Deb));
        Assert.Null(p.ManagedPath);
    }

    [Fact]
    public void A_package_is_present_in_any_version_from_the_apt_sources_by_default()
    {
        var p = OnlyPackage(OneResource("{id: pkg, type: package, name: nginx}"));

        Assert.Equal((Ensure.Present, (string?)null, (string?)null), (p.Ensure, p.Version, p.Deb));
    }

    [Fact]
    public void A_package_without_a_name_is_reported_at_the_resource() =>
        AssertPackageError("{id: pkg, type: package}", "name", "{", "is required");

    [Theory]
    [InlineData("Nginx")]
    [InlineData("-nginx")]
    [InlineData("x")]
    [InlineData("ngi_nx")]
    [InlineData("nginx/stable")]
    [InlineData("'nginx '")]
    public void A_name_that_is_not_a_Debian_package_name_is_refused(string name) =>
        AssertPackageError($"{{id: pkg, type: package, name: {name}}}", "name", name, "is not a Debian package name");

    [Theory]
    [InlineData("nginx")]
    [InlineData("libstdc++6")]
    [InlineData("python3.11")]
    [InlineData("libc6:amd64")]
    public void Debian_package_names_are_accepted(string name) =>
        Assert.Equal(name, OnlyPackage(OneResource($"{{id: pkg, type: package, name: '{name}'}}")).Name);

    [Theory]
    [InlineData("latest")]
    [InlineData("v1.0")]
    [InlineData("1.0 beta")]
    [InlineData("1.0:2")]
    [InlineData("a:1.0")]
    public void A_version_that_is_not_a_Debian_version_is_refused(string version) =>
        AssertPackageError($"{{id: pkg, type: package, name: nginx, version: '{version}'}}", "version", $"'{version}'", "is not a Debian version");

    [Theory]
    [InlineData("1.22.1-9")]
    [InlineData("2:1.0~rc1+dfsg-1")]
    [InlineData("1:2.36-9+deb12u4")]
    public void Debian_versions_are_accepted(string version) =>
        Assert.Equal(version, OnlyPackage(OneResource($"{{id: pkg, type: package, name: nginx, version: '{version}'}}")).Version);

    [Theory]
    [InlineData("debs/a.deb", "must be absolute")]
    [InlineData("/srv/../a.deb", "escapes the root")]
    [InlineData("/srv/a.tar", "is not a .deb file")]
    public void A_deb_is_a_deb_file_under_the_root(string deb, string says) =>
        AssertPackageError($"{{id: pkg, type: package, name: nginx, deb: '{deb}'}}", "deb", $"'{deb}'", says);

    [Theory]
    [InlineData("version: '1.0'")]
    [InlineData("deb: /a.deb")]
    public void An_absent_package_takes_no_version_or_deb(string extra) =>
        AssertPackageError($"{{id: pkg, type: package, name: nginx, ensure: absent, {extra}}}", "ensure", "absent", "an absent package takes no version or deb");

    [Fact]
    public void Ensure_is_present_or_absent() =>
        AssertPackageError("{id: pkg, type: package, name: nginx, ensure: latest}", "ensure", "latest", "'latest' is not one of: present, absent");

    [Fact]
    public void An_unknown_field_lists_the_fields_of_a_package()
    {
        const string Flow = "{id: pkg, type: package, name: nginx, source: a.deb}";
        AssertPackageError(Flow, "source", "source", "unknown field");
        Assert.Contains("deb, ensure, id, name, notify, requires, subscribe, type, version", OnlyErrorIn(OneResource(Flow)).Message);
    }

    [Fact]
    public void Several_errors_of_one_package_are_all_reported_on_their_lines()
    {
        var errors = ErrorsIn("""
            manifest: web
            resources:
              - id: pkg
                type: package
                name: Nginx
                version: latest
                deb: nginx.deb
                ensure: absent
            """);

        Assert.Equal(
            [(5, "resources[0] (pkg).name"), (6, "resources[0] (pkg).version"), (7, "resources[0] (pkg).deb"), (8, "resources[0] (pkg).ensure")],
            errors.Select(e => (e.Line, e.Field)));
    }

    [Theory]
    [InlineData(Full)]
    [InlineData("manifest: web\nresources:\n  - {id: pkg, type: package, name: nginx}\n")]
    [InlineData("manifest: web\nresources:\n  - {id: pkg, type: package, name: nginx, ensure: absent}\n")]
    [InlineData("manifest: web\nresources:\n  - {id: pkg, type: package, name: 'libc6:amd64', version: '2.36-9'}\n")]
    public void The_canonical_form_parses_back_to_the_same_bytes(string yaml)
    {
        var bytes = CanonicalForm.ToBytes(ManifestParser.Parse(yaml, "x.yaml"));

        var again = CanonicalForm.ToBytes(ManifestParser.Parse(Encoding.UTF8.GetString(bytes), "x.yaml"));

        Assert.Equal(bytes, again);
        AssertSameResource(Parse(yaml).Resources[0], CanonicalForm.FromBytes(bytes, "canonical").Resources[0]);
    }

    [Fact]
    public void The_canonical_form_leaves_defaults_out() =>
        Assert.Contains("""{"id":"pkg","name":"nginx","type":"package"}""",
            Encoding.UTF8.GetString(CanonicalForm.ToBytes(Parse(OneResource("{id: pkg, type: package, name: nginx, ensure: present}")))));
}
