using Mesh.Protocol.Manifests;

namespace Mesh.Node.Providers;

/// <summary>
/// The mode, owner and group a file or directory resource asks for, the owner and group
/// resolved to ids in the root's accounts (-1 where the manifest does not say). The file and
/// directory kinds compare them with a path, word the difference and set them the same way.
/// </summary>
internal sealed record PathAttributes(UnixMode? Mode, string? Owner, string? Group, int Uid, int Gid)
{
    /// <summary>Fails the resource when the root has no such owner or group.</summary>
    public static PathAttributes Resolve(UnixMode? mode, string? owner, string? group, ApplyContext context) =>
        new(mode, owner, group,
            owner is null ? -1 : UnixAccounts.UserId(context.Root, owner),
            group is null ? -1 : UnixAccounts.GroupId(context.Root, group));

    private bool NamesOwner => Uid >= 0 || Gid >= 0;

    /// <summary>Gives a path just made (with its mode) the owner and group asked for.</summary>
    public void Chown(string path)
    {
        if (NamesOwner) Posix.Chown(path, Uid, Gid);
    }

    /// <summary>
    /// What differs at an existing path whose mode is <paramref name="current"/>: "mode 0600 ->
    /// 0644", "owner 0 -> alice", "group 0 -> staff". With <paramref name="apply"/> it is set right.
    /// </summary>
    public IReadOnlyList<string> Reconcile(string path, UnixMode current, bool apply)
    {
        var differences = new List<string>();
        if (Mode is { } mode && mode != current)
        {
            if (apply) File.SetUnixFileMode(path, mode.ToFileMode());
            differences.Add($"mode {current} -> {mode}");
        }
        if (!NamesOwner) return differences;
        var (uid, gid) = Posix.OwnerOf(path);
        var ownerDiffers = Uid >= 0 && Uid != uid;
        var groupDiffers = Gid >= 0 && Gid != gid;
        if (ownerDiffers) differences.Add($"owner {uid} -> {Owner}");
        if (groupDiffers) differences.Add($"group {gid} -> {Group}");
        if (apply && (ownerDiffers || groupDiffers)) Posix.Chown(path, Uid, Gid);
        return differences;
    }
}
