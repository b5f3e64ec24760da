using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A Debian package, installed or not. <c>version</c> pins the exact version (an installed
/// package of another version is upgraded or downgraded to it); without it any installed
/// version will do and nothing is upgraded behind the operator's back.
/// <para>
/// Where it comes from: without <c>deb</c>, from the host's apt sources, which needs the node's
/// root to be <c>/</c> (apt drives the host's own package system). With <c>deb</c>, from that
/// <c>.deb</c> file, a path under the node's root (e.g. written there by a <c>file</c> resource
/// with a <c>source</c>, and required): the file then says which version is wanted, and a
/// <c>version</c> given as well must be the file's. A node whose root is not <c>/</c> manages
/// the dpkg database under its root and can install only from a <c>deb</c>.
/// </para>
/// </summary>
public sealed partial record PackageResource(string Id, string[] Requires, string Name, Ensure Ensure, string? Version)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "package";

    public override string Kind => KindName;

    /// <summary>A <c>.deb</c> file under the node's root to install from (a manifest path).</summary>
    public string? Deb { get; init; }

    // Debian policy: at least two characters, lowercase letters, digits, + - . and a letter or
    // digit first (so never an option); dpkg and apt also take an architecture after a colon.
    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$")]
    private static partial Regex NamePattern();

    // [epoch:]upstream[-revision], the upstream part starting with a digit, as Debian policy asks.
    [GeneratedRegex("^([0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$")]
    private static partial Regex VersionPattern();

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var name = f.String("name", required: true);
        if (name is not null && !NamePattern().IsMatch(name))
            f.Context.Error(f.Raw("name")!, f.Field("name"),
                $"'{name}' is not a Debian package name (lowercase letters, digits, + - ., at least two, starting with a letter or digit; an :arch may follow)");

        var ensure = f.EnsureState();

        var version = f.String("version");
        if (version is not null && (version.Length > 255 || !VersionPattern().IsMatch(version) || (version.Contains(':') && !HasEpoch(version))))
        {
            f.Context.Error(f.Raw("version")!, f.Field("version"), $"'{version}' is not a Debian version (such as 1.2.3-1 or 1:2.0~rc1-2)");
            version = null;
        }

        var deb = f.String("deb");
        if (deb is not null)
        {
            if (ResourceFields.PathProblem(deb) is { } problem)
                f.Context.Error(f.Raw("deb")!, f.Field("deb"), $"'{deb}' {problem}");
            else if (!deb.EndsWith(".deb", StringComparison.Ordinal))
                f.Context.Error(f.Raw("deb")!, f.Field("deb"), $"'{deb}' is not a .deb file");
        }

        if (ensure == Ensure.Absent && (version is not null || deb is not null))
            f.Context.Error(f.Raw("ensure")!, f.Field("ensure"), "an absent package takes no version or deb");

        return new PackageResource(id, requires, name ?? "", ensure, version) { Deb = deb };
    }

    /// <summary>A colon in a version is only allowed after an epoch.</summary>
    private static bool HasEpoch(string version) => version.IndexOf(':') is var colon and > 0 && version[..colon].All(char.IsAsciiDigit);

    internal override void WriteFields(JsonObject into)
    {
        into["name"] = Name;
        if (Ensure == Ensure.Absent) into["ensure"] = "absent";
        if (Version is not null) into["version"] = Version;
        if (Deb is not null) into["deb"] = Deb;
    }
}
