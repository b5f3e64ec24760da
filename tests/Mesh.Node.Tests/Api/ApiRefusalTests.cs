using System.Net;
using System.Net.Http.Json;
using System.Text;
using Mesh.Node.Api;
using Mesh.Node.Tests.Cluster;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Api;

/// <summary>One node with its control API, shared by the tests of a class.</summary>
public sealed class ApiNode : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private RunningApi _api = null!;

    public MeshNode Node => _api.Node;
    public HttpClient Http => _api.Http;

    public async Task InitializeAsync() => _api = await _mesh.StartWithApi("api");

    public async Task DisposeAsync()
    {
        if (_api is not null) await _api.DisposeAsync();
        await _mesh.DisposeAsync();
    }
}

/// <summary>
/// Every refusal is an <see cref="ApiError"/> that says what is wrong, also those the web
/// framework makes itself, and a body with nulls where a push needs values is a 400, not a
/// crash. (Each case here is one the API fuzz test found answered with an empty body or a 500.)
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ApiRefusalTests(ApiNode api) : IClassFixture<ApiNode>
{
    private async Task<(HttpStatusCode Status, ApiError Error)> Send(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await api.Http.SendAsync(request);
        var error = await response.Content.ReadFromJsonAsync<ApiError>(ApiJson.Options);
        return (response.StatusCode, error!);
    }

    [Theory]
    [InlineData("""{"manifests":[null]}""", "manifests[0] is null")]
    [InlineData("""{"manifests":[{"file":"a.yaml"}]}""", "manifests[0].text is missing")]
    [InlineData("""{"manifests":[{"text":"manifest: a\n"}]}""", "manifests[0].file is missing")]
    [InlineData("""{"manifests":[{"file":"a.yaml","text":"manifest: a\n","attachments":{"x":null}}]}""", "manifests[0].attachments[\"x\"] is null")]
    [InlineData("""{"manifests":[{"file":"a.yaml","text":"manifest: a\n"}],"parents":{"a":null}}""", "parents[\"a\"] is null")]
    public async Task A_push_or_plan_with_nulls_where_values_belong_is_a_400_naming_the_field(string body, string says)
    {
        foreach (var path in new[] { "v1/push", "v1/plan" })
        {
            var (status, error) = await Send(HttpMethod.Post, path, body);

            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.StartsWith($"request body is not a push: {says}", error.Error);
        }
        Assert.Empty(await api.Node.Store.IndexAsync());
    }

    [Theory]
    [InlineData("v1/plan?timeoutSeconds=abc", "timeoutSeconds")]
    [InlineData("v1/manifests/web/rollback", "to")]
    [InlineData("v1/audit?limit=many", "limit")]
    [InlineData("v1/audit?since=yesterday", "since")]
    public async Task A_query_value_that_does_not_bind_is_a_400_naming_the_parameter(string path, string parameter)
    {
        var (status, error) = await Send(path.Contains("audit") ? HttpMethod.Get : HttpMethod.Post, path, """{"manifests":[]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains($" {parameter}\"", error.Error);
    }

    [Fact]
    public async Task The_wrong_method_is_a_405_naming_the_right_one()
    {
        var (status, error) = await Send(HttpMethod.Get, "v1/push");

        Assert.Equal((HttpStatusCode.MethodNotAllowed, "GET /v1/push: method not allowed; this endpoint takes POST"), (status, error.Error));
    }

    [Theory]
    [InlineData("v2/members")]
    [InlineData("favicon.ico")]
    [InlineData("v1/members.json")]
    public async Task A_path_outside_the_api_is_a_404_ApiError(string path)
    {
        var (status, error) = await Send(HttpMethod.Get, path);

        Assert.Equal((HttpStatusCode.NotFound, $"no such endpoint: GET /{path}; the API lives under /v1/"), (status, error.Error));
    }
}
