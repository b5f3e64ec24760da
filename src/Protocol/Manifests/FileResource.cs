using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A regular file. Its bytes come from exactly one of <c>content</c> (inline), <c>template</c>
/// (Liquid, rendered per node with <c>vars</c> and the node's facts) or <c>source</c> (a blob
/// pushed with the manifest, pulled peer to peer by hash). Without any of them the node only
/// makes sure the file exists. <c>mode</c>, <c>owner</c> and <c>group</c> are enforced when given.
/// </summary>
public sealed partial record FileResource(string Id, string[] Requires, string Path, Ensure Ensure, string? Content, UnixMode? Mode)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "file";
    public const string SourcePrefix = "sha256:";

    public override string Kind => KindName;
    public override string? ManagedPath => Path;

    /// <summary>Liquid source, rendered on the node.</summary>
    public string? Template { get; init; }

    /// <summary>Hash of the blob holding the content (resolved at push time from the file the manifest names).</summary>
    public string? SourceHash { get; init; }

    public string? Owner { get; init; }
    public string? Group { get; init; }

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex ResolvedSource();

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var path = ResourceFields.Path(f);
        var ensure = f.EnsureState();
        var content = f.String("content");
        var template = f.String("template");
        var source = f.String("source");
        var mode = ResourceFields.Mode(f);
        var owner = ResourceFields.Account(f, "owner");
        var group = ResourceFields.Account(f, "group");

        var given = new[] { ("content", content), ("template", template), ("source", source) }.Where(x => x.Item2 is not null).ToArray();
        if (given.Length > 1)
            f.Context.Error(f.Raw(given[1].Item1)!, f.Field(given[1].Item1), $"give one of content, template or source, not {string.Join(" and ", given.Select(g => g.Item1))}");
        if (ensure == Ensure.Absent && (given.Length > 0 || mode is not null || owner is not null || group is not null))
            f.Context.Error(f.Raw("ensure")!, f.Field("ensure"), "an absent file takes no content, template, source, mode, owner or group");
        if (template is not null) Templates.Check(template, f, "template");

        string? hash = null;
        if (source is not null)
        {
            if (ResolvedSource().IsMatch(source)) hash = source[SourcePrefix.Length..];
            else if (f.Context.Attachments is { } attachments && attachments(source) is { } resolved) hash = resolved;
            else
                f.Context.Error(f.Raw("source")!, f.Field("source"),
                    $"'{source}' was not sent with the push (mesh push sends the files a manifest's sources name, relative to the manifest)");
        }

        return new FileResource(id, requires, path, ensure, content, mode)
        {
            Template = template,
            SourceHash = hash,
            Owner = owner,
            Group = group,
        };
    }

    internal override void WriteFields(JsonObject into)
    {
        into["path"] = Path;
        into["ensure"] = Ensure == Ensure.Present ? "present" : "absent";
        if (Content is not null) into["content"] = Content;
        if (Template is not null) into["template"] = Template;
        if (SourceHash is not null) into["source"] = SourcePrefix + SourceHash;
        if (Mode is { } m) into["mode"] = m.ToString();
        if (Owner is not null) into["owner"] = Owner;
        if (Group is not null) into["group"] = Group;
    }
}
