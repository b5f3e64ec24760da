using System.Net;
using System.Net.Http.Json;
using Mesh.Node.Tests.Cluster;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Api;

/// <summary><c>GET /v1/manifests/{name}/diff</c>: what changed between two revisions, as the dashboard shows it.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RevisionDiffTests(ApiNode api) : IClassFixture<ApiNode>
{
    private async Task<string> Push(string name, string content)
    {
        var request = new PushRequest([new ManifestFile($"{name}.yaml",
            $"manifest: {name}\nresources:\n  - {{id: f, type: file, path: /{name}, content: \"{content}\\n\"}}\n")], $"content {content}", "test", Force: true);
        var pushed = await (await api.Http.PostAsJsonAsync("v1/push", request, ApiJson.Options)).Content.ReadFromJsonAsync<PushResponse>(ApiJson.Options);
        return pushed!.Revisions.Single().Revision.Version.ToString();
    }

    [Fact]
    public async Task The_diff_of_two_revisions_is_a_unified_diff_of_their_indented_canonical_bodies()
    {
        var first = await Push("diffed", "one");
        var second = await Push("diffed", "two");

        var diff = await api.Http.GetFromJsonAsync<RevisionDiff>($"v1/manifests/diffed/diff?from={first}&to={second}", ApiJson.Options);

        Assert.Equal(first, diff!.From.Version.ToString());
        Assert.Equal(second, diff.To.Version.ToString());
        var lines = diff.Diff.Split('\n');
        Assert.Equal($"--- diffed@{first}", lines[0]);
        Assert.Equal($"+++ diffed@{second}", lines[1]);
        Assert.Equal(["-      \"content\": \"one\\n\",", "+      \"content\": \"two\\n\","], lines.Where(l => l.StartsWith('-') || l.StartsWith('+')).Skip(2));
        Assert.Contains("   \"manifest\": \"diffed\",", lines);
    }

    [Fact]
    public async Task A_revision_that_does_not_exist_is_404_and_a_missing_parameter_400()
    {
        var only = await Push("lonely", "one");

        var unknown = await api.Http.GetAsync($"v1/manifests/lonely/diff?from=0&to={only}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no revision '0'", (await unknown.Content.ReadFromJsonAsync<ApiError>(ApiJson.Options))!.Error);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.Http.GetAsync($"v1/manifests/lonely/diff?from={only}")).StatusCode);
    }
}
