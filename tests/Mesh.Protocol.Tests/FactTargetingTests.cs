using System.Text.Json.Nodes;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>
/// <c>target.facts</c>: every condition must hold on the node's facts; the operator is the key's
/// suffix (= != &gt; &gt;= &lt; &lt;= ~), a dotted key reaches nested facts, and bad input is refused at parse with its line.
/// </summary>
public class FactTargetingTests
{
    private static readonly NodeIdentity Web1 = new("web-1", new HashSet<string> { "web" }, new Dictionary<string, string>());

    private static readonly JsonObject Big = JsonNode.Parse("""
        {"os": "debian", "os_version": "12", "memory_mb": 8192, "cpus": 4, "kernel": "6.1.0-18-amd64",
         "addresses": ["10.0.0.5", "fe80::1"], "virtual": false, "app": {"tier": "gold", "shards": 3}}
        """)!.AsObject();

    private static readonly JsonObject Small = JsonNode.Parse("""{"os": "ubuntu", "memory_mb": 1024, "kernel": "5.15.0", "addresses": ["10.0.0.6"]}""")!.AsObject();

    private static TargetSpec Facts(string yaml) => Parse($"manifest: m\ntarget:\n  facts: {yaml}\n").Target;

    [Theory]
    [InlineData("{os: debian}", true, false)]
    [InlineData("{\"os!=\": debian}", false, true)]
    [InlineData("{\"memory_mb>=\": 4096}", true, false)]
    [InlineData("{\"memory_mb>\": 8192}", false, false)]
    [InlineData("{\"memory_mb<=\": 1024}", false, true)]
    [InlineData("{\"memory_mb<\": 2048.5}", false, true)]
    [InlineData("{\"kernel~\": \"6.*\"}", true, false)]
    [InlineData("{app.tier: gold}", true, false)]
    [InlineData("{\"app.shards>\": 2}", true, false)]
    [InlineData("{addresses: 10.0.0.5}", true, false)]
    [InlineData("{\"addresses~\": \"10.0.0.*\"}", true, true)]
    [InlineData("{virtual: false}", true, false)]
    [InlineData("{os: debian, \"memory_mb>=\": 16384}", false, false)]
    [InlineData("{\"rack!=\": r1}", true, true)]
    [InlineData("{rack: r1}", false, false)]
    public void Every_fact_condition_must_hold_on_the_node_s_facts(string facts, bool big, bool small)
    {
        var target = Facts(facts);

        Assert.Equal(big, target.Matches(Web1, Big));
        Assert.Equal(small, target.Matches(Web1, Small));
    }

    [Fact]
    public void A_node_whose_facts_are_not_known_matches_no_fact_target_but_every_other()
    {
        Assert.False(Facts("{os: debian}").Matches(Web1, null));
        Assert.False(Facts("{os: debian}").Matches(Web1));
        Assert.True(TargetSpec.All.Matches(Web1, null));
    }

    [Fact]
    public void Facts_combine_with_roles_and_the_canonical_form_keeps_them()
    {
        var parsed = Parse("manifest: m\ntarget:\n  roles: [web]\n  facts: {os: debian, \"memory_mb>=\": 4096}\n");
        var again = CanonicalForm.FromBytes(CanonicalForm.ToBytes(parsed), "canonical");

        Assert.Equal(["memory_mb>=4096", "os=debian"], again.Target.Facts.Select(f => f.ToString())); // canonical: keys sorted
        Assert.True(again.Target.Matches(Web1, Big));
        Assert.False(again.Target.Matches(new NodeIdentity("db-1", new HashSet<string> { "db" }, new Dictionary<string, string>()), Big));
        Assert.Equal("roles=web facts=os=debian,memory_mb>=4096", parsed.Target.ToString());
    }

    [Theory]
    [InlineData("{\"memory_mb=>\": 4096}", "unknown fact operator '=>'")]
    [InlineData("{\"os=~\": deb}", "unknown fact operator '=~'")]
    [InlineData("{\"memory_mb>=\": lots}", "compares numbers, and 'lots' is not a number")]
    [InlineData("{}", "is empty")]
    [InlineData("[os]", "must be a mapping of fact to value")]
    [InlineData("{os: [debian, ubuntu]}", "must be a single value")]
    [InlineData("{\">=\": 3}", "does not name a fact")]
    [InlineData("{os: debian, \"os=\": ubuntu}", "given twice")]
    public void Bad_fact_conditions_are_refused_at_parse_with_their_line(string facts, string expected)
    {
        var e = Assert.Throws<ManifestException>(() => Facts(facts));

        var error = Assert.Single(e.Errors);
        Assert.Equal(3, error.Line);
        Assert.StartsWith("target.facts", error.Field);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_command_line_target_takes_facts_and_refuses_an_empty_mapping()
    {
        var target = ManifestParser.ParseTarget("{facts: {os: debian, \"memory_mb>=\": 4096}}");
        Assert.True(target.Matches(Web1, Big));
        Assert.False(target.Matches(Web1, Small));

        var empty = Assert.Throws<ManifestException>(() => ManifestParser.ParseTarget("{}"));
        Assert.Contains("the target is empty", empty.Message);
        var bad = Assert.Throws<ManifestException>(() => ManifestParser.ParseTarget("{facts: {\"cpus>>\": 2}}"));
        Assert.Equal("--target", Assert.Single(bad.Errors).Source);
        Assert.Contains("unknown fact operator '>>'", bad.Message);
    }
}
