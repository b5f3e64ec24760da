using System.Text;
using System.Text.RegularExpressions;
using CsCheck;

namespace Mesh.Fuzzing;

/// <summary>A YAML node as the generators build it, before it is written out as text.</summary>
public abstract record YNode
{
    /// <summary>An anchor (<c>&amp;name</c>) the node carries, or null.</summary>
    public string? Anchor { get; init; }
    /// <summary>A tag (<c>!!str</c>, <c>!custom</c>, …) the node carries, or null.</summary>
    public string? Tag { get; init; }
}

public enum ScalarStyle { Plain, SingleQuoted, DoubleQuoted, Literal, Folded }

public sealed record YScalar(string Text, ScalarStyle Style) : YNode;
public sealed record YSeq(IReadOnlyList<YNode> Items, bool Flow) : YNode;
public sealed record YMap(IReadOnlyList<(YNode Key, YNode Value)> Pairs, bool Flow) : YNode;
public sealed record YAlias(string Name) : YNode;

/// <summary>
/// Generators of YAML documents built from the manifest vocabulary (kinds, fields, nesting,
/// anchors and aliases, tags, odd scalars, long strings, deep nesting), and a writer that turns
/// a tree into YAML text in block or flow style. Most documents are well-formed YAML, so the
/// manifest validation is reached; many are not valid manifests.
/// </summary>
public static partial class FuzzYaml
{
    // ---- vocabulary ----------------------------------------------------------------------------

    public static readonly string[] Kinds = ["file", "directory", "symlink", "exec", "service", "package", "user", "group", "File", "cron", ""];

    public static readonly string[] ResourceFields = [
        "path", "mode", "owner", "group", "content", "template", "source", "ensure", "force", "purge",
        "target", "command", "creates", "unless", "only_if", "timeout", "refresh_only", "cwd", "env",
        "name", "version", "deb", "enabled", "state", "run", "uid", "gid", "home", "shell", "groups",
        "members", "system", "comment", "requires", "before", "notify", "subscribe", "mdoe", "id", "type",
    ];

    private static readonly string[] Names = ["web", "app", "db", "motd", "a", "b", "c", "app-dir", "app-conf", "reload", "x.y", "_u", "Web", "-bad", "9lives"];

    private static readonly string[] Paths = [
        "/", "/srv", "/srv/app", "/srv/app/app.conf", "/etc/motd", "/tmp/x", "relative/path", "/srv/../etc", "/srv/./x",
        "//srv", "/srv/", "/a b/c", "/ünïcode/päth", "../../etc/passwd", "/proc/self/mem", "", "/dev/null",
    ];

    private static readonly string[] OddScalars = [
        "", "~", "null", "Null", "NULL", "true", "false", "yes", "no", "on", "off", "Y", "0", "-0", "0o644", "0644", "0755", "644",
        "0x1F", "1e3", ".inf", "-.inf", ".nan", "12:30:00", "2001-12-14t21:59:43.10-05:00", "0777777777777777777777",
        "99999999999999999999999999", "-1", "30s", "5m", "1h30m", "0s", "-5s", "10x", "{{ vars.port }}", "{{ node.name }}",
        "{% if node.name %}x{% endif %}", "{{ unclosed", "{% for %}", "{{ vars.a.b.c.d }}", "sha256:", "sha256:00",
        "sha256:" + new string('a', 64), "a\0b", "tab\there", "line\nbreak", "crlf\r\nbreak", "trailing ", " leading",
        "quote'\"mix", "\\backslash", "#not-a-comment", "&notanchor", "*notalias", "!nottag", "%percent", "@at", "`tick`",
        "|pipe", ">fold", "- dash", "? question", ": colon", "a: b", "[x]", "{y}", "a, b", "\u0085nel", "\u2028ls", "\u2029ps",
        "\uFEFFbom", "\u00A0nbsp", "emoji 🎉", "日本語", "\u202Eright-to-left", "\uD800", "\uDFFF", "\uDBFF\uDFFF", "\u0001ctl",
        "\u007Fdel", "\u009Fc1",
    ];

    private static readonly string[] Tags = [
        "!!str", "!!int", "!!bool", "!!null", "!!float", "!!map", "!!seq", "!!set", "!!omap", "!!binary", "!!timestamp",
        "!custom", "!", "!<tag:yaml.org,2002:str>", "!<!local>", "!e!x",
    ];

    private static readonly string[] AnchorNames = ["a0", "a1", "a2", "base", "x"];

    // ---- scalars -------------------------------------------------------------------------------

    private static readonly Gen<ScalarStyle> Style = Gen.Frequency(
        (6, ScalarStyle.Plain), (2, ScalarStyle.SingleQuoted), (3, ScalarStyle.DoubleQuoted), (1, ScalarStyle.Literal), (1, ScalarStyle.Folded));

    /// <summary>Characters that mean something to YAML, mixed with ordinary and unusual ones.</summary>
    private static readonly Gen<char> TextChar = Gen.Frequency(
        (8, Gen.Char.AlphaNumeric),
        (3, Gen.Char[" -_./:#&*!|>'\"%@`,[]{}?=~\\\t\n"]),
        (1, Gen.Char['\u0000', '\u001F']),
        (1, Gen.Char['\u0080', '\u00FF']),
        (1, Gen.Char['\u0100', '\uFFFF']));

    private static readonly Gen<string> RandomText = Gen.String[TextChar, 0, 40];

    /// <summary>A very long string: tens of thousands of characters.</summary>
    private static readonly Gen<string> LongText = Gen.Select(Gen.Int[10_000, 120_000], Gen.Char.AlphaNumeric, (n, c) => new string(c, n));

    private static readonly Gen<string> ScalarText = Gen.Frequency(
        (4, Gen.OneOf(Names)),
        (3, Gen.OneOf(Paths)),
        (4, Gen.OneOf(OddScalars)),
        (4, RandomText),
        (2, Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, LongText.Null(0.97).Select(s => s ?? "x")));

    public static readonly Gen<YNode> Scalar = Gen.Select(ScalarText, Style, (t, s) => (YNode)new YScalar(t, s));

    private static Gen<YNode> Plain(Gen<string> text) => text.Select(t => (YNode)new YScalar(t, ScalarStyle.Plain));

    private static Gen<YNode> Quoted(Gen<string> text) => Gen.Select(text, Style, (t, s) => (YNode)new YScalar(t, s));

    // ---- properties: anchors, tags, aliases ----------------------------------------------------

    private static readonly Gen<string?> MaybeAnchor = Gen.OneOf(AnchorNames).Null(0.9);
    private static readonly Gen<string?> MaybeTag = Gen.OneOf(Tags).Null(0.93);

    private static Gen<YNode> WithProperties(Gen<YNode> node) =>
        Gen.Select(node, MaybeAnchor, MaybeTag, (n, a, t) => n is YAlias ? n : n with { Anchor = a, Tag = t });

    private static readonly Gen<YNode> Alias = Gen.OneOf([.. AnchorNames, "nowhere"]).Select(a => (YNode)new YAlias(a));

    // ---- collections ---------------------------------------------------------------------------

    /// <summary>Any YAML value: scalars, lists and mappings nested a few levels, with aliases and properties.</summary>
    public static readonly Gen<YNode> Value = Gen.Recursive<YNode>((depth, self) => WithProperties(depth >= 4
        ? Gen.Frequency((10, Scalar), (1, Alias))
        : Gen.Frequency(
            (8, Scalar),
            (1, Alias),
            (2, Gen.Select(self.List[0, 5], Gen.Bool, (items, flow) => (YNode)new YSeq(items, flow))),
            (2, Gen.Select(Gen.Select(Gen.Frequency((6, Plain(Gen.OneOf(ResourceFields))), (2, Scalar), (1, self)), self).List[0, 5], Gen.Bool,
                (pairs, flow) => (YNode)new YMap(pairs, flow))))));

    /// <summary>Lists nested <paramref name="levels"/> deep (around the parser's limit of 64).</summary>
    public static YNode NestedSeq(int levels, bool flow)
    {
        YNode node = new YScalar("bottom", ScalarStyle.Plain);
        for (var i = 0; i < levels; i++) node = new YSeq([node], flow);
        return node;
    }

    /// <summary>Mappings nested <paramref name="levels"/> deep.</summary>
    public static YNode NestedMap(int levels, bool flow)
    {
        YNode node = new YScalar("bottom", ScalarStyle.Plain);
        for (var i = 0; i < levels; i++) node = new YMap([(new YScalar("k", ScalarStyle.Plain), node)], flow);
        return node;
    }

    private static readonly Gen<YNode> Deep = Gen.Frequency(
        (3, Gen.Select(Gen.Int[50, 70], Gen.Bool, (n, flow) => NestedSeq(n, flow))),
        (2, Gen.Select(Gen.Int[50, 70], Gen.Bool, (n, flow) => NestedMap(n, flow))),
        (1, Gen.Int[200, 3000].Select(n => NestedSeq(n, flow: true))));

    private static Gen<YNode> FieldValue(string field) => field switch
    {
        "path" or "target" or "creates" or "cwd" or "home" or "shell" => Quoted(Gen.OneOf(Paths)),
        "mode" => Quoted(Gen.OneOf("0644", "0755", "644", "0o755", "9999", "-1", "0", "07777", "rwx", "")),
        "ensure" => Quoted(Gen.OneOf("present", "absent", "running", "stopped", "latest", "maybe", "")),
        "force" or "purge" or "refresh_only" or "enabled" or "system" => Quoted(Gen.OneOf("true", "false", "yes", "no", "on", "maybe", "1")),
        "requires" or "before" or "notify" or "subscribe" => Gen.Frequency(
            (3, Gen.Select(Plain(Gen.OneOf(Names)).List[0, 3], Gen.Bool, (items, flow) => (YNode)new YSeq(items, flow))),
            (1, Plain(Gen.OneOf(Names)))),
        "command" => Gen.Frequency(
            (2, Quoted(Gen.OneOf("/bin/true", "echo hi", "/bin/sh -c 'exit 1'", ""))),
            (2, Gen.Select(Quoted(Gen.OneOf("/bin/sh", "-c", "echo $HOME", "", "--")).List[0, 4], Gen.Bool, (items, flow) => (YNode)new YSeq(items, flow)))),
        "timeout" => Quoted(Gen.OneOf("30s", "5m", "0s", "-1s", "1d", "10", "forever", "")),
        "content" or "template" or "run" => Gen.Frequency((3, Scalar), (1, Quoted(Gen.OneOf("{{ vars.port }}", "{{ node.name }}", "{% if x %}", "{{ }}", "port = {{ vars.port }}\n")))),
        _ => Value,
    };

    /// <summary>A resource: usually an id and a type, then random fields of the vocabulary.</summary>
    public static readonly Gen<YNode> Resource = Gen.Select(
        Plain(Gen.OneOf(Names)).Null(0.1),
        Plain(Gen.OneOf(Kinds)).Null(0.1),
        Gen.OneOf(ResourceFields).SelectMany(f => FieldValue(f).Select(v => ((YNode)new YScalar(f, ScalarStyle.Plain), v))).List[0, 6],
        Gen.Bool,
        (id, kind, fields, flow) =>
        {
            var pairs = new List<(YNode, YNode)>();
            if (id is not null) pairs.Add((new YScalar("id", ScalarStyle.Plain), id));
            if (kind is not null) pairs.Add((new YScalar("type", ScalarStyle.Plain), kind));
            pairs.AddRange(fields);
            return (YNode)new YMap(pairs, flow);
        });

    private static readonly Gen<YNode> Target = Gen.Select(
        Gen.Select(Plain(Gen.OneOf("web", "db", "*", "")).List[0, 3], Gen.Bool, (i, f) => (YNode)new YSeq(i, f)).Null(0.4),
        Gen.Select(Gen.Select(Plain(Gen.OneOf("env", "zone", "")), Quoted(Gen.OneOf("prod", "eu-1", ""))).List[0, 2], Gen.Bool, (p, f) => (YNode)new YMap(p, f)).Null(0.5),
        Gen.Select(Quoted(Gen.OneOf("web-*", "*", "[a-", "n0?", "")).List[0, 2], Gen.Bool, (i, f) => (YNode)new YSeq(i, f)).Null(0.5),
        (roles, labels, nodes) =>
        {
            var pairs = new List<(YNode, YNode)>();
            if (roles is not null) pairs.Add((new YScalar("roles", ScalarStyle.Plain), roles));
            if (labels is not null) pairs.Add((new YScalar("labels", ScalarStyle.Plain), labels));
            if (nodes is not null) pairs.Add((new YScalar("nodes", ScalarStyle.Plain), nodes));
            return (YNode)new YMap(pairs, false);
        });

    /// <summary>
    /// A manifest-shaped document: <c>manifest</c>, <c>target</c>, <c>vars</c> and
    /// <c>resources</c> (each present or not, sometimes with the wrong shape), the occasional
    /// unknown or duplicate key, deep nesting or a random value somewhere.
    /// </summary>
    public static readonly Gen<YNode> Manifest = Gen.Select(
        Gen.Frequency((8, Plain(Gen.OneOf(Names))), (1, Scalar), (1, Value)).Null(0.05),
        Gen.Frequency((4, Target), (1, Value)).Null(0.6),
        Gen.Frequency((4, Value), (1, Deep)).Null(0.5),
        Gen.Frequency((8, Gen.Select(Gen.Frequency((12, Resource), (1, Value)).List[0, 6], Gen.Bool, (r, f) => (YNode)new YSeq(r, f))), (1, Value)).Null(0.05),
        Gen.Frequency((12, Gen.Const<(YNode, YNode)?>(((YNode, YNode)?)null)), (1, Gen.Select(Gen.Frequency((3, Plain(Gen.OneOf("mdoe", "resource", "manifest", "vars", "extra"))), (1, Value)), Value).Select(p => ((YNode, YNode)?)p))),
        Gen.Bool,
        (name, target, vars, resources, extra, flow) =>
        {
            var pairs = new List<(YNode, YNode)>();
            if (name is not null) pairs.Add((new YScalar("manifest", ScalarStyle.Plain), name));
            if (target is not null) pairs.Add((new YScalar("target", ScalarStyle.Plain), target));
            if (vars is not null) pairs.Add((new YScalar("vars", ScalarStyle.Plain), vars));
            if (resources is not null) pairs.Add((new YScalar("resources", ScalarStyle.Plain), resources));
            if (extra is { } e) pairs.Add(e);
            return (YNode)new YMap(pairs, flow && pairs.Count < 3);
        });

    // ---- plausible manifests: valid resources of every kind, odd values where any value goes ------

    private static YNode P(string text) => new YScalar(text, ScalarStyle.Plain);

    private static (YNode, YNode) F(string key, YNode value) => (P(key), value);

    private static YNode Map(params (YNode, YNode)?[] pairs) => new YMap(pairs.OfType<(YNode, YNode)>().ToArray(), false);

    private static Gen<(YNode, YNode)?> Maybe(string key, Gen<YNode> value, double absent = 0.5) =>
        value.Select(v => F(key, v)).Nullable(absent);

    private static Gen<YNode> OneOfQuoted(params string[] values) => Quoted(Gen.OneOf(values));

    /// <summary>Account lists without repeats (a repeated name is refused, which is not what these manifests are for).</summary>
    private static List<YNode> Distinct(List<YNode> names) => names.DistinctBy(n => ((YScalar)n).Text).ToList();

    private static readonly Gen<YNode> Mode = OneOfQuoted("0644", "0600", "0755", "750", "0444");
    private static readonly Gen<YNode> Account = OneOfQuoted("root", "0", "www-data", "deploy", "1000");
    private static readonly Gen<YNode> Bool = OneOfQuoted("true", "false", "yes", "no", "on", "off", "True");
    private static readonly Gen<YNode> Template = OneOfQuoted("port = {{ vars.port }}\n", "{{ node.name }}", "plain text", "{% if vars.port %}on{% endif %}\n", "");

    /// <summary>Free text where a manifest takes any string: odd scalars, unicode, long strings, any style.</summary>
    private static readonly Gen<YNode> AnyText = WithProperties(Scalar).Select(n => n with { Anchor = null });

    /// <summary>A resource of one kind with valid fields; its index makes its id, path and name unique.</summary>
    private static readonly Gen<Func<int, YNode>>[] PlausibleKinds = [
        Gen.Select(Gen.Frequency((4, Maybe("content", AnyText, 0)), (2, Maybe("template", Template, 0)), (1, Gen.Const<(YNode, YNode)?>(((YNode, YNode)?)null))),
            Maybe("mode", Mode), Maybe("owner", Account, 0.8), Maybe("group", Account, 0.8),
            (body, mode, owner, group) => (Func<int, YNode>)(i => Map(F("id", P($"r{i}")), F("type", P("file")), F("path", P($"/srv/r{i}.conf")), body, mode, owner, group))),
        Gen.Select(Maybe("mode", Mode), Maybe("purge", Bool, 0.7), Maybe("force", Bool, 0.7),
            (mode, purge, force) => (Func<int, YNode>)(i => Map(F("id", P($"r{i}")), F("type", P("directory")), F("path", P($"/srv/r{i}")), mode, purge, force))),
        Gen.Select(OneOfQuoted("/etc/motd", "motd", "../srv", "/"), Maybe("force", Bool, 0.7),
            (target, force) => (Func<int, YNode>)(i => Map(F("id", P($"r{i}")), F("type", P("symlink")), F("path", P($"/srv/link{i}")), F("target", target), force))),
        Gen.Select(
            Gen.Frequency((1, AnyText.Where(n => n is YScalar { Text.Length: > 0 } sc && !sc.Text.Contains('\0'))),
                (1, Gen.Select(AnyText.Where(n => n is YScalar { Text.Length: > 0 } sc && !sc.Text.Contains('\0')).List[1, 3], l => (YNode)new YSeq(l, true)))),
            Maybe("creates", OneOfQuoted("/srv/done", "/tmp/x")), Maybe("timeout", OneOfQuoted("30s", "5m", "1h", "10")), Maybe("refresh_only", Bool),
            Maybe("env", Gen.Select(AnyText, v => (YNode)new YMap([(P("MESH_VAR"), v)], true)), 0.7), Maybe("cwd", OneOfQuoted("/srv", "/")),
            (command, creates, timeout, refresh, env, cwd) => (Func<int, YNode>)(i => Map(F("id", P($"r{i}")), F("type", P("exec")), F("command", command), creates, timeout, refresh, env, cwd))),
        Gen.Select(Maybe("version", OneOfQuoted("1.2.3-1", "1:2.0~rc1-2", "7.88.1-10+deb12u5")), Maybe("ensure", OneOfQuoted("present", "absent"), 0.7),
            (version, ensure) => (Func<int, YNode>)(i => Map(F("id", P($"r{i}")), F("type", P("package")), F("name", P($"pkg{i}")), ensure is null ? version : ensure))),
        Gen.Select(Maybe("ensure", OneOfQuoted("running", "stopped")), Maybe("enabled", Bool), Maybe("run", Gen.OneOf(AnyText.Where(n => n is YScalar { Text.Length: > 0 } sc && !sc.Text.Contains('\0')), OneOfQuoted("exec sleep 1000\n"))),
            (ensure, enabled, run) => (Func<int, YNode>)(i => Map(F("id", P($"r{i}")), F("type", P("service")), F("name", P($"svc{i}")), ensure, enabled, run))),
        Gen.Select(Maybe("uid", OneOfQuoted("1001", "0", "65534")), Maybe("groups", Gen.Select(Plain(Gen.OneOf("web", "adm", "_ops")).List[0, 3], l => (YNode)new YSeq(Distinct(l), true))),
            Maybe("comment", OneOfQuoted("Deploy user", "", "Ünïcode name")), Maybe("home", OneOfQuoted("/home/deploy", "/")), Maybe("system", Bool),
            (uid, groups, comment, home, system) => (Func<int, YNode>)(i => Map(F("id", P($"r{i}")), F("type", P("user")), F("name", P($"user{i}")), uid, groups, comment, home, system))),
        Gen.Select(Maybe("gid", OneOfQuoted("1001", "0")), Maybe("members", Gen.Select(Plain(Gen.OneOf("deploy", "www-data")).List[0, 2], l => (YNode)new YSeq(Distinct(l), false))),
            (gid, members) => (Func<int, YNode>)(i => Map(F("id", P($"r{i}")), F("type", P("group")), F("name", P($"group{i}")), gid, members))),
    ];

    /// <summary>Links to earlier resources only, so the graph has no cycle.</summary>
    private static readonly Gen<(string Relation, int Back)?> Link = Gen.Select(Gen.OneOf("requires", "notify", "before", "subscribe"), Gen.Int[1, 3]).Nullable(0.6);

    private static readonly Gen<YNode> PlausibleResources = Gen.Select(Gen.OneOf(PlausibleKinds).Array[0, 8], Link.Array[8], Gen.Bool.Array[8],
        (kinds, links, flow) => (YNode)new YSeq(kinds.Select((make, i) =>
        {
            var r = (YMap)make(i) with { Flow = flow[i] };
            // Every link names an earlier resource, in whichever direction the relation points, so there is no cycle.
            if (links[i] is not { } link || i - link.Back < 0) return r;
            return r with { Pairs = [.. r.Pairs, F(link.Relation, new YSeq([P($"r{i - link.Back}")], true))] };
        }).ToArray(), false));

    /// <summary><c>vars</c>: a mapping of distinct names to arbitrary values.</summary>
    private static readonly Gen<YNode> Vars = Gen.Select(Value.List[0, 5], Gen.Bool,
        (values, flow) => (YNode)new YMap(values.Select((v, i) => F($"v{i}", v)).ToArray(), flow));

    /// <summary>
    /// A manifest that should mostly be valid: resources of every kind with sensible fields, an
    /// arbitrary <c>vars</c> tree (anchors, aliases, tags), odd text wherever text is free.
    /// </summary>
    public static readonly Gen<YNode> PlausibleManifest = Gen.Select(
        Gen.OneOf("web", "app", "x.y-z_1", "a"), Target.Null(0.7), Vars.Null(0.3), PlausibleResources,
        (name, target, vars, resources) => Map(F("manifest", P(name)), target is null ? null : F("target", target), vars is null ? null : F("vars", vars), F("resources", resources)));

    public static readonly Gen<string> PlausibleManifestText = Gen.Select(PlausibleManifest, Gen.Frequency((6, Gen.Const(Dress.None)), (1, Gen.OneOf(Dress.StartMarker, Dress.Comments, Dress.Crlf, Dress.EndMarker | Dress.StartMarker, Dress.Bom))),
        (doc, dress) => Write(doc, dress));

    /// <summary>How a document is dressed: document markers, directives, comments, a BOM, CRLF line ends.</summary>
    [Flags]
    public enum Dress { None = 0, StartMarker = 1, EndMarker = 2, Directive = 4, Comments = 8, Bom = 16, Crlf = 32, SecondDocument = 64, TabIndent = 128 }

    private static readonly Gen<Dress> Dressing = Gen.Frequency(
        (10, Gen.Const(Dress.None)),
        (1, Gen.Int[0, 255].Select(i => (Dress)i)));

    /// <summary>A manifest-shaped document written as YAML text.</summary>
    public static readonly Gen<string> ManifestText = Gen.Select(Manifest, Dressing, (doc, dress) => Write(doc, dress));

    // ---- writing ------------------------------------------------------------------------------

    public static string Write(YNode root, Dress dress = Dress.None)
    {
        var s = new StringBuilder();
        if (dress.HasFlag(Dress.Bom)) s.Append('\uFEFF');
        if (dress.HasFlag(Dress.Directive)) s.Append("%YAML 1.1\n");
        if (dress.HasFlag(Dress.StartMarker) || dress.HasFlag(Dress.Directive)) s.Append("---\n");
        if (dress.HasFlag(Dress.Comments)) s.Append("# a comment\n");
        if (root is YMap { Flow: false, Pairs.Count: > 0 } or YSeq { Flow: false, Items.Count: > 0 })
            Block(s, root with { Anchor = null, Tag = null }, 0, dress.HasFlag(Dress.Comments));
        else s.Append(Inline(root)).Append('\n');
        if (dress.HasFlag(Dress.EndMarker)) s.Append("...\n");
        if (dress.HasFlag(Dress.SecondDocument)) s.Append("---\nsecond: document\n");
        var text = s.ToString();
        if (dress.HasFlag(Dress.TabIndent)) text = text.Replace("\n  ", "\n\t");
        if (dress.HasFlag(Dress.Crlf)) text = text.Replace("\n", "\r\n");
        return text;
    }

    private static string Properties(YNode n)
    {
        var p = new List<string>();
        if (n.Anchor is not null) p.Add("&" + n.Anchor);
        if (n.Tag is not null) p.Add(n.Tag);
        return string.Join(' ', p);
    }

    private static bool IsBlockCollection(YNode n) => n is YMap { Flow: false, Pairs.Count: > 0 } or YSeq { Flow: false, Items.Count: > 0 };

    /// <summary>The entries of a block collection, each on its own line(s) at <paramref name="indent"/>.</summary>
    private static void Block(StringBuilder s, YNode n, int indent, bool comments)
    {
        var pad = new string(' ', indent);
        switch (n)
        {
            case YMap map:
                foreach (var (key, value) in map.Pairs)
                {
                    if (key is YScalar { Style: ScalarStyle.Plain or ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted } k && k.Text.Length < 1000 && !k.Text.Contains('\n'))
                        s.Append(pad).Append(Inline(key)).Append(key is YAlias ? " :" : ":");
                    else
                    {
                        // A complex key: "? key" then ": value".
                        s.Append(pad).Append('?');
                        After(s, key, indent, comments);
                        s.Append(pad).Append(':');
                    }
                    After(s, value, indent, comments);
                }
                break;
            case YSeq seq:
                foreach (var item in seq.Items)
                {
                    s.Append(pad).Append('-');
                    After(s, item, indent, comments);
                }
                break;
        }
    }

    /// <summary>What follows "key:" or "-": an inline value on the same line, or a block one below it.</summary>
    private static void After(StringBuilder s, YNode value, int indent, bool comments)
    {
        var props = Properties(value);
        if (IsBlockCollection(value))
        {
            if (props.Length > 0) s.Append(' ').Append(props);
            if (comments) s.Append(" # nested");
            s.Append('\n');
            Block(s, value, indent + 2, comments);
            return;
        }
        if (value is YScalar { Style: ScalarStyle.Literal or ScalarStyle.Folded } block && BlockScalarFits(block.Text))
        {
            s.Append(' ');
            if (props.Length > 0) s.Append(props).Append(' ');
            s.Append(block.Style == ScalarStyle.Literal ? '|' : '>');
            s.Append(block.Text.EndsWith('\n') ? "" : "-").Append('\n');
            var pad = new string(' ', indent + 2);
            foreach (var line in block.Text.TrimEnd('\n').Split('\n')) s.Append(line.Length == 0 ? "" : pad).Append(line).Append('\n');
            return;
        }
        s.Append(' ').Append(Inline(value)).Append('\n');
    }

    /// <summary>A literal or folded block holds the text as it is only when nothing in it needs escaping.</summary>
    private static bool BlockScalarFits(string text) =>
        text.Length > 0 && text[0] is not (' ' or '\t' or '\n') && !text.Any(c => c != '\n' && (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\uFEFF' or '\u0085'))
        && !text.Contains("\n ") && !text.Contains("\n\t") && !text.EndsWith("\n\n", StringComparison.Ordinal);

    /// <summary>A node in flow style (one line).</summary>
    public static string Inline(YNode n)
    {
        var props = Properties(n);
        var body = n switch
        {
            YAlias a => "*" + a.Name,
            YScalar sc => WriteScalar(sc),
            YSeq seq => "[" + string.Join(", ", seq.Items.Select(Inline)) + "]",
            YMap map => "{" + string.Join(", ", map.Pairs.Select(p => Inline(p.Key) + (p.Key is YAlias ? " : " : ": ") + Inline(p.Value))) + "}",
            _ => throw new ArgumentOutOfRangeException(nameof(n)),
        };
        return props.Length == 0 ? body : props + " " + body;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_/$.(][A-Za-z0-9_/$.()=+ -]*(?<! )$")]
    private static partial Regex SafePlain();

    private static string WriteScalar(YScalar sc)
    {
        var text = sc.Text;
        var printable = !text.Any(c => char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\uFEFF' or '\u0085');
        return sc.Style switch
        {
            ScalarStyle.Plain when text.Length == 0 || SafePlain().IsMatch(text) => text,
            ScalarStyle.SingleQuoted when printable => "'" + text.Replace("'", "''") + "'",
            _ => DoubleQuoted(text),
        };
    }

    private static string DoubleQuoted(string text)
    {
        var s = new StringBuilder("\"");
        foreach (var c in text)
            s.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                '\0' => "\\0",
                _ when char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\uFEFF' or '\u0085' => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        return s.Append('"').ToString();
    }
}
