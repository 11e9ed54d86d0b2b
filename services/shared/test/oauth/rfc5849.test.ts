// The worked examples of RFC 5849 (expectations typed in from the RFC text).
import { describe, expect, it } from "vitest";
import {
  baseStringUri,
  collectParameters,
  normalizeParameters,
  signatureBaseString,
  signRequestDetailed,
  type CredentialStore,
} from "../../src/oauth/index.js";
import { verifier } from "./helpers.js";

// Note: the brief paired "tR3+Ty81lMeYAr/Fid0kMTYa/WM=" with RFC 5849's chapoH/137131202
// request, but that value is the OAuth Core 1.0 Appendix A example (nonce kllo9940pd9333jh,
// timestamp 1191242096, oauth_version=1.0 in the base string). RFC 5849 §1.2 itself prints
// oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D" for its request. Both are tested.
const photos = {
  consumer: { key: "dpf43f3p2l4k3l03", secret: "kd94hf93k423kf44" },
  token: { key: "nnch734d00sl2jdk", secret: "pfkkdhi9sl3r4s00" },
  url: "http://photos.example.net/photos?file=vacation.jpg&size=original",
};

function photoCredentials(): CredentialStore<string, string> {
  return {
    consumer: async (key) =>
      key === photos.consumer.key ? { record: "printer", secrets: [photos.consumer.secret] } : null,
    token: async (t) => (t === photos.token.key ? { record: "jane", secret: photos.token.secret } : null),
  };
}

/** Signs the photos request (GET photos.url) with HMAC-SHA1 and the given protocol values. */
const signPhotos = (values: { nonce: string; timestamp: number; includeVersion?: boolean }) =>
  signRequestDetailed({
    method: "GET",
    url: photos.url,
    consumer: photos.consumer,
    token: photos.token,
    signatureMethod: "HMAC-SHA1",
    ...values,
  });

/** Verifies the photos request (GET photos.url) carrying `authorization`, with the clock at `now`. */
function verifyPhotos(now: number, authorization: string) {
  return verifier({ credentials: photoCredentials(), now })({
    method: "GET",
    url: photos.url,
    authorization,
  });
}

describe("RFC 5849 §1.2 (photos example, HMAC-SHA1)", () => {
  const RFC_BASE_STRING =
    "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal";

  it("signs to the RFC's base string and signature", () => {
    const signed = signPhotos({ nonce: "chapoH", timestamp: 137131202, includeVersion: false });
    expect(signed.baseString).toBe(RFC_BASE_STRING);
    expect(signed.oauthParams.oauth_signature).toBe("MdpQcU8iPSUjWoN/UDMsK2sui9I=");
    expect(signed.authorization).toContain('oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"');
    expect(signed.authorization).not.toContain("oauth_version");
  });

  it("verifies the RFC's request exactly as the RFC writes it", async () => {
    const result = await verifyPhotos(
      137131202,
      'OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131202", oauth_nonce="chapoH", oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"',
    );
    expect(result.consumer).toBe("printer");
    expect(result.token).toBe("jane");
    expect(result.tokenKey).toBe("nnch734d00sl2jdk");
    expect(result.signatureMethod).toBe("HMAC-SHA1");
  });
});

describe("OAuth Core 1.0 Appendix A.5 (same photos request, oauth_version=1.0)", () => {
  const CORE_BASE_STRING =
    "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal";

  it("signs to tR3+Ty81lMeYAr/Fid0kMTYa/WM=", () => {
    const signed = signPhotos({ nonce: "kllo9940pd9333jh", timestamp: 1191242096 });
    expect(signed.baseString).toBe(CORE_BASE_STRING);
    expect(signed.oauthParams.oauth_signature).toBe("tR3+Ty81lMeYAr/Fid0kMTYa/WM=");
    expect(signed.oauthParams.oauth_version).toBe("1.0");
  });

  it("verifies it", async () => {
    const result = await verifyPhotos(
      1191242096,
      'OAuth realm="http://photos.example.net/", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", oauth_signature_method="HMAC-SHA1", oauth_signature="tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D", oauth_timestamp="1191242096", oauth_nonce="kllo9940pd9333jh", oauth_version="1.0"',
    );
    expect(result.tokenKey).toBe("nnch734d00sl2jdk");
  });
});

describe("RFC 5849 §3.4.1 (base string of the POST example)", () => {
  const input = {
    method: "POST",
    url: "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
    contentType: "application/x-www-form-urlencoded",
    body: "c2&a3=2+q",
    oauthParams: {
      realm: "Example",
      oauth_consumer_key: "9djdj82h48djs9d2",
      oauth_token: "kkk9d7dh3k39sjv7",
      oauth_signature_method: "HMAC-SHA1",
      oauth_timestamp: "137131201",
      oauth_nonce: "7d8f3e4a",
      oauth_signature: "djosJKDKJSD8743243%2Fjdk33klY%3D",
    },
  };

  it("reproduces the §3.4.1.1 base string", () => {
    expect(signatureBaseString(input)).toBe(
      "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7",
    );
  });

  it("reproduces the §3.4.1.3.2 normalized parameters", () => {
    expect(normalizeParameters(collectParameters(input).params)).toBe(
      "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7",
    );
  });

  it("the signer puts the same parameters in its base string", () => {
    const signed = signRequestDetailed({
      method: "post",
      url: input.url,
      consumer: { key: "9djdj82h48djs9d2", secret: "s" },
      token: { key: "kkk9d7dh3k39sjv7", secret: "t" },
      signatureMethod: "HMAC-SHA1",
      nonce: "7d8f3e4a",
      timestamp: 137131201,
      includeVersion: false,
      body: input.body,
      contentType: input.contentType,
    });
    expect(signed.baseString).toBe(signatureBaseString(input));
    expect(signed.oauthParams.oauth_body_hash).toBeUndefined();
  });

  it("§3.4.1.2 base string URI examples", () => {
    expect(baseStringUri("HTTP://EXAMPLE.COM:80/r%20v/X?id=123")).toBe("http://example.com/r%20v/X");
    expect(baseStringUri("https://www.example.net:8080/?q=1")).toBe("https://www.example.net:8080/");
    expect(baseStringUri("https://example.net:443")).toBe("https://example.net/");
    expect(baseStringUri("http://example.net:443/a#frag")).toBe("http://example.net:443/a");
  });
});
