using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>
/// The package provider driving the real dpkg against a throwaway root with a dpkg database of
/// its own, installing .deb files built by the test. The host's packages are never touched:
/// every test ends by checking that the host's dpkg knows nothing of the test package.
/// </summary>
public sealed class PackageProviderTests : ProviderTestBase
{
    private const string Package = "mesh-test-pkg";
    private const string Deb1 = "/debs/mesh-test-pkg_1.0_all.deb";
    private const string Deb2 = "/debs/mesh-test-pkg_2.0_all.deb";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(1);

    private readonly PackageProvider _provider = new();
    private readonly TempDir _build = new();

    public PackageProviderTests()
    {
        AssertHostDoesNotKnowTheTestPackage();
        foreach (var dir in new[] { "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log", "debs" })
            Directory.CreateDirectory(Root[dir]);
        File.WriteAllText(Root["var/lib/dpkg/status"], "");
        File.WriteAllText(Root["var/lib/dpkg/available"], "");
        BuildDeb("1.0", Root[Deb1]);
        BuildDeb("2.0", Root[Deb2]);
    }

    public override void Dispose()
    {
        try
        {
            AssertHostDoesNotKnowTheTestPackage();
        }
        finally
        {
            _build.Dispose();
            base.Dispose();
        }
    }

    private static PackageResource Pkg(Ensure ensure = Ensure.Present, string? version = null, string? deb = Deb1, string name = Package) =>
        new("pkg", [], name, ensure, version) { Deb = deb };

    private ProviderResult Apply(PackageResource r) => _provider.CheckApply(r, Context, apply: true, CancellationToken.None);
    private ProviderResult Check(PackageResource r) => _provider.CheckApply(r, Context, apply: false, CancellationToken.None);

    /// <summary>"install ok installed 1.0" as the root's dpkg database says it; null when it knows nothing of the package.</summary>
    private string? InRoot()
    {
        var query = HostTools.Run("dpkg-query", [$"--admindir={Root["var/lib/dpkg"]}", "-W", "-f=${Status} ${Version}", Package], ToolTimeout, CancellationToken.None);
        return query.Succeeded ? query.Output : null;
    }

    private string Shipped => File.ReadAllText(Root["usr/share/mesh-test/version"]);

    [Fact]
    public void Installs_a_deb_into_the_roots_own_dpkg_database()
    {
        var result = Apply(Pkg());

        Assert.Equal(ResourceAction.Created, result.Action);
        Assert.Equal($"installed {Package} 1.0 from {Deb1}", result.Message);
        Assert.Equal("install ok installed 1.0", InRoot());
        Assert.Equal("1.0\n", Shipped);
    }

    [Fact]
    public void A_second_apply_changes_nothing_and_says_so()
    {
        Apply(Pkg());
        var status = File.ReadAllBytes(Root["var/lib/dpkg/status"]);

        var second = Apply(Pkg());

        Assert.Equal(ResourceAction.Unchanged, second.Action);
        Assert.Equal(status, File.ReadAllBytes(Root["var/lib/dpkg/status"]));
    }

    [Fact]
    public void A_pinned_version_upgrades_the_installed_package()
    {
        Apply(Pkg());

        var result = Apply(Pkg(version: "2.0", deb: Deb2));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal($"{Package} 1.0 -> 2.0 from {Deb2}", result.Message);
        Assert.Equal("install ok installed 2.0", InRoot());
        Assert.Equal("2.0\n", Shipped);
        Assert.Equal(ResourceAction.Unchanged, Apply(Pkg(version: "2.0", deb: Deb2)).Action);
    }

    [Fact]
    public void Without_a_pin_the_deb_says_which_version_is_wanted_downgrades_included()
    {
        Apply(Pkg(deb: Deb2));

        var result = Apply(Pkg(deb: Deb1));

        Assert.Equal($"{Package} 2.0 -> 1.0 from {Deb1}", result.Message);
        Assert.Equal("install ok installed 1.0", InRoot());
    }

    [Fact]
    public void An_installed_package_needs_no_deb_to_stay_installed()
    {
        Apply(Pkg());

        Assert.Equal(ResourceAction.Unchanged, Apply(Pkg(deb: null)).Action);
        Assert.Equal(ResourceAction.Unchanged, Apply(Pkg(deb: null, version: "1.0")).Action);
    }

    [Fact]
    public void A_deb_that_does_not_hold_the_pinned_version_fails_before_anything_changes()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(Pkg(version: "2.0", deb: Deb1)));

        Assert.Equal($"{Deb1} holds {Package} 1.0, not the pinned version 2.0", e.Message);
        Assert.Null(InRoot());
    }

    [Fact]
    public void A_deb_of_another_package_is_refused()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(Pkg(name: "mesh-other-pkg")));

        Assert.Equal($"{Deb1} holds the package '{Package}', not mesh-other-pkg", e.Message);
        Assert.Null(InRoot());
    }

    [Fact]
    public void A_deb_that_is_not_there_fails_an_apply_and_is_only_noted_in_a_plan()
    {
        var missing = Pkg(deb: "/debs/later.deb");

        Assert.Equal($"installed {Package} from /debs/later.deb (/debs/later.deb does not exist yet)", Check(missing).Message);
        Assert.Contains("/debs/later.deb does not exist", Assert.Throws<ResourceException>(() => Apply(missing)).Message);
    }

    [Fact]
    public void Without_a_deb_a_root_other_than_the_host_cannot_install()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(Pkg(deb: null)));

        Assert.Contains("can only be installed from the apt sources on a node whose root is /", e.Message);
        Assert.Contains("give deb:", e.Message);
        Assert.Null(InRoot());
    }

    [Fact]
    public void Ensure_absent_removes_the_package_and_then_has_nothing_to_do()
    {
        Apply(Pkg());

        var result = Apply(Pkg(Ensure.Absent, deb: null));

        Assert.Equal(ResourceAction.Removed, result.Action);
        Assert.Equal($"removed {Package} 1.0", result.Message);
        Assert.Null(InRoot());
        Assert.False(File.Exists(Root["usr/share/mesh-test/version"]));
        Assert.Equal(ResourceAction.Unchanged, Apply(Pkg(Ensure.Absent, deb: null)).Action);
    }

    [Fact]
    public void A_dry_run_reports_every_change_and_makes_none()
    {
        var install = Check(Pkg());
        Apply(Pkg());
        var status = File.ReadAllBytes(Root["var/lib/dpkg/status"]);

        var upgrade = Check(Pkg(version: "2.0", deb: Deb2));
        var remove = Check(Pkg(Ensure.Absent, deb: null));

        Assert.Equal((ResourceAction.Created, $"installed {Package} 1.0 from {Deb1}"), (install.Action, install.Message));
        Assert.Equal((ResourceAction.Changed, $"{Package} 1.0 -> 2.0 from {Deb2}"), (upgrade.Action, upgrade.Message));
        Assert.Equal((ResourceAction.Removed, $"removed {Package} 1.0"), (remove.Action, remove.Message));
        Assert.Equal(status, File.ReadAllBytes(Root["var/lib/dpkg/status"]));
        Assert.Equal("1.0\n", Shipped);
    }

    [Fact]
    public void Dpkg_logs_into_the_roots_log_never_the_hosts()
    {
        Apply(Pkg());

        Assert.Contains($"install {Package}:all <none> 1.0", File.ReadAllText(Root["var/log/dpkg.log"]));
    }

    [Fact]
    public void A_package_half_installed_by_an_earlier_run_is_installed_again()
    {
        Apply(Pkg());
        var status = Root["var/lib/dpkg/status"];
        File.WriteAllText(status, File.ReadAllText(status).Replace("install ok installed", "install reinstreq half-configured"));

        var result = Apply(Pkg());

        Assert.Equal((ResourceAction.Changed, $"{Package} was half-configured: reinstalled 1.0 from {Deb1}"), (result.Action, result.Message));
        Assert.Equal("install ok installed 1.0", InRoot());
    }

    [Fact]
    public void A_root_without_a_dpkg_database_fails_clearly()
    {
        File.Delete(Root["var/lib/dpkg/status"]);

        var result = Apply(Pkg());

        Assert.Equal(ResourceAction.Failed, result.Action);
        Assert.Equal($"package: the root {Root.Path} has no dpkg database (/var/lib/dpkg/status under it)", result.Message);
    }

    [Fact]
    public void A_node_without_dpkg_fails_every_package_and_applies_none()
    {
        var result = new PackageProvider(dpkgAvailable: false).CheckApply(Pkg(), Context, apply: true, CancellationToken.None);

        Assert.Equal((ResourceAction.Failed, "package: dpkg is not available on this node"), (result.Action, result.Message));
        Assert.Null(InRoot());
    }

    // The host's own database, read only: each of these would change nothing even if it were applied.
    [Fact]
    public void On_the_host_root_the_hosts_database_is_read()
    {
        var host = new ApplyContext("/");

        Assert.Equal(ResourceAction.Unchanged, _provider.CheckApply(Pkg(deb: null, name: "dpkg"), host, apply: false, CancellationToken.None).Action);
        Assert.Equal(ResourceAction.Unchanged, _provider.CheckApply(Pkg(Ensure.Absent, deb: null), host, apply: false, CancellationToken.None).Action);
    }

    /// <summary>A .deb of the test package: one file whose content is its version.</summary>
    private void BuildDeb(string version, string into)
    {
        var tree = _build[$"tree-{version}"];
        Directory.CreateDirectory(Path.Combine(tree, "DEBIAN"));
        Directory.CreateDirectory(Path.Combine(tree, "usr/share/mesh-test"));
        File.WriteAllText(Path.Combine(tree, "DEBIAN/control"), $"""
            Package: {Package}
            Version: {version}
            Architecture: all
            Maintainer: Mesh tests <tests@mesh.invalid>
            Description: a package for the package provider tests

            """);
        File.WriteAllText(Path.Combine(tree, "usr/share/mesh-test/version"), version + "\n");
        HostTools.Run("dpkg-deb", ["--root-owner-group", "--build", tree, into], ToolTimeout, CancellationToken.None).OrFail();
    }

    private static void AssertHostDoesNotKnowTheTestPackage()
    {
        Assert.False(HostTools.Run("dpkg-query", ["-W", Package], ToolTimeout, CancellationToken.None).Succeeded, $"the host's dpkg knows {Package}");
        const string HostLog = "/var/log/dpkg.log";
        if (File.Exists(HostLog)) Assert.DoesNotContain(Package, File.ReadAllText(HostLog));
    }
}
