using System.Text.Json;
using System.Text.Json.Nodes;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Protocol.Tests;

/// <summary>The control API's JSON: camelCase, versions as their text form, enums as snake_case words, nulls left out.</summary>
public class ApiJsonTests
{
    private static readonly HybridTimestamp Version = new(1_764_220_065_123, 2, "web-1");
    private static readonly DateTimeOffset Noon = new(2025, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static readonly RevisionRecord Revision = new(
        Manifest: "web",
        Version: Version,
        Hash: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        Size: 512,
        Author: "alice",
        Origin: "web-1",
        OriginAddress: "akka.tcp://mesh@10.0.0.1:4053",
        Time: Noon,
        Message: "more workers",
        Target: new TargetSpec(["web"], new Dictionary<string, string> { ["env"] = "prod" }, ["web-*"]),
        Parent: null);

    private static readonly ApplyReport Report = new(
        Node: "web-2",
        Manifest: "web",
        Version: Version,
        Hash: Revision.Hash,
        Outcome: ApplyOutcome.Failed,
        Changed: 1,
        Resources:
        [
            new ResourceResult("app-dir", "directory", ResourceAction.Unchanged, null, 1),
            new ResourceResult("app-conf", "file", ResourceAction.Changed, "content", 3),
            new ResourceResult("cert", "file", ResourceAction.Failed, "permission denied", 0),
        ],
        Error: "1 resource failed",
        DurationMs: 4,
        Time: Noon);

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, ApiJson.Options);

    private static T FromJson<T>(string json) => JsonSerializer.Deserialize<T>(json, ApiJson.Options)!;

    [Fact]
    public void A_revision_record_round_trips_with_its_version_as_a_string()
    {
        var json = Json(Revision);

        Assert.Equal("1764220065123.2@web-1", JsonNode.Parse(json)!["version"]!.GetValue<string>());
        var back = FromJson<RevisionRecord>(json);
        Assert.Equal(Revision with { Target = back.Target }, back);
        Assert.Equal(Revision.Target.ToString(), back.Target.ToString());
        Assert.Equal(json, Json(back));
    }

    [Fact]
    public void An_apply_report_round_trips_with_its_version_as_a_string_and_enums_as_words()
    {
        var json = JsonNode.Parse(Json(Report))!;

        Assert.Equal("1764220065123.2@web-1", json["version"]!.GetValue<string>());
        Assert.Equal("failed", json["outcome"]!.GetValue<string>());
        Assert.Equal(["unchanged", "changed", "failed"], json["resources"]!.AsArray().Select(r => r!["action"]!.GetValue<string>()));
        var back = FromJson<ApplyReport>(json.ToJsonString());
        Assert.Equal(Report.Resources, back.Resources);
        Assert.Equal(Report with { Resources = back.Resources }, back);
    }

    [Fact]
    public void A_pending_report_reads_pending_with_its_reason_and_round_trips()
    {
        var pending = Report with { Outcome = ApplyOutcome.Pending, Resources = [], Changed = 0, Error = "waiting for the body: origin akka.tcp://mesh@10.0.0.1:4053 did not answer within 5s at byte 0" };

        var json = JsonNode.Parse(Json(pending))!;

        Assert.Equal("pending", json["outcome"]!.GetValue<string>());
        Assert.Equal(pending.Error, json["error"]!.GetValue<string>());
        var back = FromJson<ApplyReport>(json.ToJsonString());
        Assert.Equal(ApplyOutcome.Pending, back.Outcome);
        Assert.False(back.Succeeded);
    }

    [Fact]
    public void Properties_are_camel_case_and_null_ones_are_left_out()
    {
        var json = JsonNode.Parse(Json(Revision))!.AsObject();

        Assert.Contains("originAddress", json.Select(p => p.Key));
        Assert.DoesNotContain("parent", json.Select(p => p.Key));
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("\"\"")]
    [InlineData("1764220065123")]
    [InlineData("{\"wallMs\": 1}")]
    public void A_version_that_does_not_parse_is_a_json_error(string version)
    {
        var json = Json(Revision).Replace("\"1764220065123.2@web-1\"", version);

        Assert.Throws<JsonException>(() => FromJson<RevisionRecord>(json));
    }

    [Fact]
    public void Manifest_errors_travel_with_their_location()
    {
        var error = new ApiError("manifest rejected", [new ManifestError("site/web.yaml", 9, 5, "resources[1] (app-conf).mdoe", "unknown field")]);

        var back = FromJson<ApiError>(Json(error));

        Assert.Equal(error.Details, back.Details);
    }
}
