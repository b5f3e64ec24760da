using System.Text.Json.Nodes;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A regular file. With <c>content</c> the node owns the bytes; without it the node only makes
/// sure the file exists (and has <c>mode</c>, when given).
/// </summary>
public sealed record FileResource(string Id, string[] Requires, string Path, Ensure Ensure, string? Content, UnixMode? Mode)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "file";
    public override string Kind => KindName;
    public override string? ManagedPath => Path;

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var path = ResourceFields.Path(f);
        var ensure = f.EnsureState();
        var content = f.String("content");
        var mode = ResourceFields.Mode(f);
        if (ensure == Ensure.Absent && (content is not null || mode is not null))
            f.Context.Error(f.Raw("ensure")!, f.Field("ensure"), "an absent file takes no content or mode");
        return new FileResource(id, requires, path, ensure, content, mode);
    }

    internal override void WriteFields(JsonObject into)
    {
        into["path"] = Path;
        into["ensure"] = Ensure == Ensure.Present ? "present" : "absent";
        if (Content is not null) into["content"] = Content;
        if (Mode is { } m) into["mode"] = m.ToString();
    }
}
