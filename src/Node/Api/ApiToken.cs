using System.Net;
using System.Security.Cryptography;
using System.Text;
using Mesh.Protocol.Api;
using Mesh.Protocol.Files;
using Microsoft.AspNetCore.Http;

namespace Mesh.Node.Api;

/// <summary>
/// The control API's bearer token. On loopback the API trusts the host's users, as a local
/// daemon does; bound to any other address it requires <c>Authorization: Bearer &lt;token&gt;</c>,
/// with the token generated once into <c>&lt;data-dir&gt;/api-token</c> (mode 0600, readable by the
/// node's user only) for the CLI to read (<c>mesh --token-file</c>), and for a browser to bring
/// once to the dashboard.
/// </summary>
public static class ApiToken
{
    public const string FileName = "api-token";

    /// <summary>The token to require, or null when the endpoint is loopback and needs none.</summary>
    public static string? For(IPEndPoint endpoint, string dataDir)
    {
        if (IPAddress.IsLoopback(endpoint.Address)) return null;
        var path = Path.Combine(dataDir, FileName);
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        // Written whole, then renamed: a reader never sees it empty.
        AtomicFile.Write(path, token + "\n", AtomicFile.OwnerOnly, overwrite: false);
        return token;
    }

    /// <summary>The cookie a browser keeps the token in (the dashboard's event stream cannot send a header).</summary>
    public const string CookieName = "mesh-token";

    /// <summary>Constant-time comparison of the presented header with the token.</summary>
    public static bool Accepts(string token, string? authorization)
    {
        const string prefix = "Bearer ";
        if (authorization is null || !authorization.StartsWith(prefix, StringComparison.Ordinal)) return false;
        return Matches(token, authorization[prefix.Length..]);
    }

    private static bool Matches(string token, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented.Trim()), Encoding.ASCII.GetBytes(token));

    /// <summary>
    /// In front of every route when the API needs a token: a request without the right one is
    /// answered 401. The token comes in the <c>Authorization</c> header or, from a browser, in the
    /// cookie that a dashboard page opened once with <c>?token=</c> sets (HttpOnly, SameSite=Strict).
    /// </summary>
    public static Func<HttpContext, RequestDelegate, Task> Middleware(string token, string dataDir) => async (context, next) =>
    {
        var request = context.Request;
        if (Dashboard.IsPage(request) && Matches(token, request.Query["token"]))
        {
            context.Response.Cookies.Append(CookieName, token, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = request.IsHttps,
                Path = "/",
                IsEssential = true,
            });
            // The same page without the token, so that it stays out of the address bar and the history.
            var rest = QueryString.Create(request.Query.Where(q => q.Key != "token"));
            context.Response.Redirect(request.PathBase + request.Path + rest);
            return;
        }
        if (Accepts(token, request.Headers.Authorization) || Matches(token, request.Cookies[CookieName]))
        {
            await next(context);
            return;
        }
        var file = Path.Combine(dataDir, FileName);
        if (Dashboard.IsPage(request)) await Dashboard.RefusedAsync(context, file);
        else await ApiErrors.WriteAsync(context, 401, new ApiError(
            $"this node's control API is not on loopback and requires its token (in {file}; mesh --token-file)"));
    };
}
