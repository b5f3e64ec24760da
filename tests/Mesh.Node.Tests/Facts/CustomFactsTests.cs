using Mesh.Node.Facts;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Tests.Facts;

/// <summary>Custom facts from a facts directory: executables run, files read, JSON or key=value, a failure named and never fatal.</summary>
public sealed class CustomFactsTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static readonly NodeIdentity Me = new("n1", new HashSet<string> { "web" }, new Dictionary<string, string> { ["env"] = "prod" });

    private void Write(string name, string text, bool executable = false)
    {
        File.WriteAllText(_dir[name], text);
        if (executable) File.SetUnixFileMode(_dir[name], UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void Executables_print_json_and_files_hold_key_value_lines_merged_over_the_host_facts()
    {
        Write("10-app", "#!/bin/sh\necho '{\"app\": {\"tier\": \"gold\"}, \"shards\": 3}'\n", executable: true);
        Write("20-rack.txt", "# where it stands\nrack = r12\n\nrow=b\n");

        var facts = NodeFacts.Gather(Me, _dir.Path);

        Assert.Empty(facts.Errors);
        var json = facts.ToJson();
        Assert.Equal("gold", json["app"]!["tier"]!.ToString());
        Assert.Equal(3, json["shards"]!.GetValue<int>());
        Assert.Equal("r12", json["rack"]!.ToString());
        Assert.Equal("b", json["row"]!.ToString());
        Assert.Equal("n1", json["name"]!.ToString());
        Assert.Equal("prod", json["labels"]!["env"]!.ToString());
        foreach (var name in new[] { "os", "kernel", "arch", "cpus", "memory_mb", "disks", "addresses", "boot_time", "packages", "hostname", "uptime_s" })
            Assert.True(json.ContainsKey(name), name);
        Assert.True(json["memory_mb"]!.GetValue<long>() > 0);
        Assert.True(ManifestParser.ParseTarget("{facts: {app.tier: gold, \"shards>=\": 2, rack: r12}}").Matches(Me, json));
    }

    [Fact]
    public void A_failing_slow_or_malformed_custom_fact_is_reported_and_the_others_still_count()
    {
        Write("a-fails", "#!/bin/sh\necho boom >&2\nexit 3\n", executable: true);
        Write("b-slow", "#!/bin/sh\nsleep 30\n", executable: true);
        Write("c-bad", "this is not a fact\n");
        Write("d-builtin", "os=plan9\n");
        Write("e-good", "zone=eu-1\n");

        var facts = NodeFacts.Gather(Me, _dir.Path, TimeSpan.FromSeconds(1));

        Assert.Contains(facts.Errors, e => e == "facts.d/a-fails: exit 3: boom");
        Assert.Contains(facts.Errors, e => e.StartsWith("facts.d/b-slow: still ran after 1 s", StringComparison.Ordinal));
        Assert.Contains(facts.Errors, e => e.StartsWith("facts.d/c-bad: line 1: expected key=value", StringComparison.Ordinal));
        Assert.Contains(facts.Errors, e => e.Contains("custom fact 'os' (d-builtin) is ignored"));
        Assert.Equal("eu-1", facts.ToJson()["zone"]!.ToString());
        Assert.NotEqual("plan9", facts.ToJson()["os"]!.ToString());
    }

    [Fact]
    public void Custom_facts_too_big_to_publish_are_dropped_with_a_reason()
    {
        Write("big", string.Join("\n", Enumerable.Range(0, 200).Select(i => $"fact{i}={new string('x', 40)}")));

        var facts = NodeFacts.Gather(Me, _dir.Path);

        Assert.False(facts.ToJson().ContainsKey("fact1"));
        Assert.Contains(facts.Errors, e => e.Contains($"more than {NodeFacts.MaxBytes} bytes"));
        Assert.True(facts.Values.ToJsonString().Length <= NodeFacts.MaxBytes);
    }

    public void Dispose() => _dir.Dispose();
}
