using System.Net;
using OpenQA.Selenium;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The dashboard of a node whose API is off loopback: a browser without the token gets a 401
/// page; one that brings it once in the URL keeps it in a cookie, for the API and the event stream.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class DashboardTokenTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-dash-token-");
    private NodeProcess _node = null!;

    private string Token => File.ReadAllText(_node.TokenFile).Trim();

    [Fact]
    public async Task Without_the_token_the_page_is_refused_and_with_it_once_in_the_url_the_dashboard_works()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri($"http://{_node.Api}/") };
        var refused = await http.GetAsync("");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("text/html", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("dashboard.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"v1/members?token={Token}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("?token=" + new string('0', 64))).StatusCode);
        using var wrongCookie = new HttpRequestMessage(HttpMethod.Get, "v1/members") { Headers = { { "Cookie", "mesh-token=" + new string('0', 64) } } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrongCookie)).StatusCode);

        var accepted = await http.GetAsync($"?token={Token}");
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal("/", accepted.Headers.Location?.OriginalString);
        var cookie = Assert.Single(accepted.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        browser.Open($"http://{_node.Api}/");
        Assert.Contains("requires its API token", browser.Driver.FindElement(By.TagName("h1")).Text);
        Assert.Contains(_node.TokenFile, browser.Driver.FindElement(By.TagName("body")).Text);
        browser.Screenshot("token-required");

        browser.Open($"http://{_node.Api}/?token={Token}#/");
        Assert.DoesNotContain("token", browser.Driver.Url);
        browser.Until(d => d.FindElements(By.CssSelector("#fleet tr[data-node='guarded']")).Count == 1, "the node listed, read from the API with the cookie");
        browser.Until(d => d.FindElement(By.Id("live")).Text == "● live", "the event stream open with the cookie");
        Assert.True(browser.Driver.Manage().Cookies.GetCookieNamed("mesh-token")?.IsHttpOnly, "the browser keeps the token where scripts cannot read it");
        Assert.DoesNotContain("mesh-token", (string)browser.Script("return document.cookie;")!);
    }

    public async Task InitializeAsync() => _node = await _nodes.StartAsync("guarded", apiHost: "0.0.0.0");

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
