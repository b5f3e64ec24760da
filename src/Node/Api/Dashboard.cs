using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mesh.Node.Api;

/// <summary>
/// The web dashboard: a page, a style sheet and a script embedded in mesh-node (<c>Api/wwwroot/</c>),
/// served at <c>/</c> beside the control API and under its token rules (<see cref="ApiToken"/>).
/// The script reads only the <c>/v1</c> API and its event stream; it holds no operation of its own.
/// </summary>
public static class Dashboard
{
    private const string Prefix = "dashboard/";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
    };

    // Everything the page loads comes from this node; nothing may frame it, and no link leaks the URL.
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>The embedded files by name, read once.</summary>
    private static readonly Dictionary<string, byte[]> Files = ReadFiles();

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Serve("index.html"));
        foreach (var name in Files.Keys.Where(n => n != "index.html")) app.MapGet("/" + name, () => Serve(name));
    }

    /// <summary>A request for a page of the dashboard rather than for the API: where a browser may bring the token in its URL.</summary>
    public static bool IsPage(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && !request.Path.StartsWithSegments("/v1", StringComparison.Ordinal);

    /// <summary>The 401 answer to a browser: a page that says how to bring the token.</summary>
    public static Task RefusedAsync(HttpContext context, string tokenFile)
    {
        context.Response.StatusCode = 401;
        context.Response.ContentType = ContentTypes[".html"];
        var file = WebUtility.HtmlEncode(tokenFile);
        return context.Response.WriteAsync($"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Mesh: token required</title></head>
            <body><h1>401: this node's dashboard requires its API token</h1>
            <p>The control API of this node is not on loopback. Open <code>/?token=TOKEN</code> once, with the token in
            <code>{file}</code> on the node; the browser then keeps it in a cookie for this node.</p></body></html>
            """);
    }

    private static IResult Serve(string name) => new EmbeddedFile(Files[name], ContentTypes[Path.GetExtension(name)]);

    private static Dictionary<string, byte[]> ReadFiles()
    {
        var assembly = typeof(Dashboard).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var bytes = new MemoryStream();
            stream.CopyTo(bytes);
            files[resource[Prefix.Length..]] = bytes.ToArray();
        }
        return files;
    }

    private sealed class EmbeddedFile(byte[] content, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            var headers = context.Response.Headers;
            headers.ContentType = contentType;
            // The files change with the node's version: always ask.
            headers.CacheControl = "no-cache";
            headers.ContentSecurityPolicy = Policy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return context.Response.Body.WriteAsync(content).AsTask();
        }
    }
}
