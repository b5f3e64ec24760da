using System.Text.Json.Nodes;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A symbolic link at <c>path</c> pointing at <c>target</c>. Like every manifest path, an
/// absolute target means a place under the node's root: on a node whose root is
/// <c>/srv/sandbox</c>, <c>/etc/foo -&gt; /opt/foo</c> becomes a link to
/// <c>/srv/sandbox/opt/foo</c> (with the root <c>/</c> the two are the same). A relative target
/// is written into the link as given and is resolved, as the kernel does, from the link's
/// directory; it may not climb above the root. The target need not exist.
/// <para>
/// A file or directory where the link should be is an error unless <c>force: true</c>: then a
/// file (kept as a backup) or an empty directory is replaced, a non-empty directory never.
/// <c>ensure: absent</c> removes a link and leaves alone anything that is not one.
/// </para>
/// </summary>
public sealed record SymlinkResource(string Id, string[] Requires, string Path, Ensure Ensure, string? Target, bool Force)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "symlink";
    public override string Kind => KindName;
    public override string? ManagedPath => Path;

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var path = ResourceFields.Path(f);
        var ensure = f.EnsureState();
        var target = f.String("target");
        var force = f.Bool("force") ?? false;

        if (ensure == Ensure.Present && target is null && f.Raw("target") is null)
            f.Context.Error(f.Node, f.Field("target"), "is required (what the link points at)");
        if (ensure == Ensure.Absent && target is not null)
            f.Context.Error(f.Raw("target")!, f.Field("target"), "an absent symlink takes no target");
        else if (target is not null && TargetProblem(path, target) is { } problem)
            f.Context.Error(f.Raw("target")!, f.Field("target"), $"'{target}' {problem}");
        if (path == "/" && f.Raw("path") is { } at)
            f.Context.Error(at, f.Field("path"), "the root itself cannot be a symlink");

        return new SymlinkResource(id, requires, path, ensure, target, force);
    }

    /// <summary>
    /// An absolute target follows the rules of every manifest path. A relative one is checked
    /// by walking it from the link's directory: it must never go above <c>/</c>, which is the root.
    /// </summary>
    private static string? TargetProblem(string linkPath, string target)
    {
        if (target.StartsWith('/')) return ResourceFields.PathProblem(target);
        if (target.Length == 0) return "is empty";
        if (target.Contains('\0')) return "contains a NUL character";
        if (target.Length > 4096) return "is longer than 4096 characters";
        var depth = Math.Max(0, linkPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Length - 1);
        foreach (var segment in target.Split('/'))
        {
            if (segment == "..") depth--;
            else if (segment is not ("" or ".")) depth++;
            if (depth < 0) return $"escapes the root: from {System.IO.Path.GetDirectoryName(linkPath)} it climbs above /";
        }
        return null;
    }

    internal override void WriteFields(JsonObject into)
    {
        into["path"] = Path;
        into["ensure"] = Ensure == Ensure.Present ? "present" : "absent";
        if (Target is not null) into["target"] = Target;
        if (Force) into["force"] = "true";
    }
}
