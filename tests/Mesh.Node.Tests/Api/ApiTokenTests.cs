using System.Net;
using System.Net.Http.Headers;
using Mesh.Node.Api;
using Mesh.Node.Tests.Cluster;
using Mesh.Node.Tests.Support;

namespace Mesh.Node.Tests.Api;

[Collection(ClusterCollection.Name)]
public sealed class ApiTokenTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    [Fact]
    public async Task Off_loopback_the_api_refuses_requests_without_the_token_it_wrote_for_its_owner_only()
    {
        await using var api = await _mesh.StartWithApi("exposed", "0.0.0.0");
        var (node, http) = (api.Node, api.Http);

        var anonymous = await http.GetAsync("v1/members");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("requires its token", await anonymous.Content.ReadAsStringAsync());

        var tokenFile = Path.Combine(node.Settings.DataDir, ApiToken.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/members")).StatusCode);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(tokenFile).Trim());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/members")).StatusCode);
    }

    [Fact]
    public async Task On_loopback_no_token_is_made_or_needed()
    {
        await using var api = await _mesh.StartWithApi("local");
        var (node, http) = (api.Node, api.Http);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/members")).StatusCode);
        Assert.False(File.Exists(Path.Combine(node.Settings.DataDir, ApiToken.FileName)));
    }

    [Fact]
    public async Task A_request_body_over_the_limit_is_refused()
    {
        await using var api = await _mesh.StartWithApi("bounded");
        var (node, http) = (api.Node, api.Http);

        var huge = new ByteArrayContent(new byte[ControlApi.MaxBodyBytes + 1]);
        huge.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        // Kestrel answers 413 from the Content-Length and closes: the client may see the 413 or a broken pipe.
        try
        {
            var response = await http.PostAsync("v1/push", huge);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        catch (HttpRequestException)
        {
        }

        Assert.Empty(await node.Store.IndexAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/members")).StatusCode);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
