using System.Text.Json.Nodes;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A directory. <c>ensure: absent</c> removes an empty directory; a non-empty one is removed
/// only with <c>force: true</c>, so a typo cannot wipe a tree. <c>purge: true</c> removes the
/// entries in it that no manifest on the node manages (subdirectories only with force).
/// </summary>
public sealed record DirectoryResource(string Id, string[] Requires, string Path, Ensure Ensure, UnixMode? Mode, bool Force)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "directory";
    public override string Kind => KindName;
    public override string? ManagedPath => Path;

    public bool Purge { get; init; }
    public string? Owner { get; init; }
    public string? Group { get; init; }

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var path = ResourceFields.Path(f);
        var ensure = f.EnsureState();
        var mode = ResourceFields.Mode(f);
        var force = f.Bool("force") ?? false;
        var purge = f.Bool("purge") ?? false;
        var owner = ResourceFields.Account(f, "owner");
        var group = ResourceFields.Account(f, "group");
        if (ensure == Ensure.Absent && (mode is not null || owner is not null || group is not null))
            f.Context.Error(f.Raw("ensure")!, f.Field("ensure"), "an absent directory takes no mode, owner or group");
        if (path == "/" && ensure == Ensure.Absent)
            f.Context.Error(f.Raw("path")!, f.Field("path"), "the root itself cannot be removed");
        if (path == "/" && purge)
            f.Context.Error(f.Raw("purge")!, f.Field("purge"), "the root itself cannot be purged");
        if (purge && ensure == Ensure.Absent)
            f.Context.Error(f.Raw("purge")!, f.Field("purge"), "an absent directory cannot be purged");
        return new DirectoryResource(id, requires, path, ensure, mode, force) { Purge = purge, Owner = owner, Group = group };
    }

    internal override void WriteFields(JsonObject into)
    {
        into["path"] = Path;
        into["ensure"] = Ensure == Ensure.Present ? "present" : "absent";
        if (Mode is { } m) into["mode"] = m.ToString();
        if (Force) into["force"] = "true";
        if (Purge) into["purge"] = "true";
        if (Owner is not null) into["owner"] = Owner;
        if (Group is not null) into["group"] = Group;
    }
}
