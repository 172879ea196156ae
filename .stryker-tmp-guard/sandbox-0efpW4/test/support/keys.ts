// @ts-nocheck
// Fixed signing keys for the test provider only: generating RSA keys at start-up costs
// hundreds of milliseconds per provider. Never use these outside tests.
export interface TestJwk { readonly [k: string]: string }

export const TEST_SIGNING_KEYS: readonly TestJwk[] = [
  {
    "kty": "RSA",
    "n": "vB5ZNRFG1ZEZibLGNdmIfR5bUikFsvnCAqY35fujbqIac_mxANC1iaNNz0rVW4iYDRGfnumwwLg37R-xDL7KZ34DVVMjCbqqujedmqg0U-dPh28HuX9x2u2kKXJ_abF9_Tx43SjYP3ZaByjARXz5nd7DMc8c4RFqqclng1zYX_hmLEFQwoKQs1MysdG_V57humgMlHQ00Re9pAbM3liUxgxRKOw7AD3GsrFLzI2FzVyhetYgZ3EtvWvw7LZXQMccFa1xT2IcXKc6mI0vSFieHJKqgnv_BuCYaltLHJHDhcXoYps28hAAa5MKmnartve5FA_O9nIQcGyYUH9QS2VP2w",
    "e": "AQAB",
    "d": "JCEFVlZ7GYlEiQL3Y7WOVnlTZfQlpA9Ts4PjjcfxG3kGm5TY6c8ruRjOrivbzjiYUJTnPcij_woNCP2NLhAhJL85j1Q9kSDIqVBadIQu3e5kLR6l3SUc428V7YqP7edTdc9SEdJGYJSFCzBIZ7rDi2O9GVPYYrbK8CY-OycZvKnOSSEvFrlQX99KnPK4ABt1xYt47Bne5GNQaB3jKxQZo9C47qFxZjwO2f0fwBcOGGI6pluZ69serQvNp-fofaDAmParH5fnpPem0-RW-sWswpwkrjTsa4sehpa9CIv_ht3fGNNI1f2YftLgoQNPvT2frt7TG_P3f8izLnKxJAP9",
    "p": "8U2X6kEzayKRelqoJatuV11TITGDtIz9LGWXXt96KoDOQoE9DkgTS6xf2sNm3hez0JwIbXCP8nsAmLM5M465qsx2HcFySesBemlbCCJUnEzPUOr3R_nAYIBwNJ1KBjHSRlkeegoRFg4Ev1WAF-zW7Xi4SNOg7hiP-FOB5WCUv88",
    "q": "x5N_54mZanoXorjYCQS-MnqPvm601VhzvpIalwiXl_6F7v5chDXwj2dEjUu5dUfEodWsSIHzPbJeb3idyD9Qu5xEsbEFXqgds13UbT27LQhsNIAARLWmhafADusjIL2oqglUkYtx0iPVP13VCxmxkCAlJsjbJu5rpIHcO5gpRjU",
    "dp": "mMc-Bg1eFtj-Lu-zQpZ1-E6YUY3eC7Swnyl7W5A28y42aZkWJTKxNNpgnkvVl4x-RvhjxZbdLPN__y6KawBUwbVOm6xdRjvK5cxK3K2P0J45LMx34FRa3z6yzD1CHwXwUqYeS7qP8tzRWKszvPIxao1icIm9fMKEdP-6YJZz17U",
    "dq": "BTj76OA17o5hXfW-WYYRQBrq9g3Jl6en573FClzEMssLUDTB0QfkUqxeI-Buav5EzANebctQxTWMuRgL8PiPMUmmlovOWyrFFDOJYo5x_nyw8DLFTwb945N_OCS5F5s-9awm1WQzx07-vpjDAXZbqizdLAWnjn5AvN5VGA4kTl0",
    "qi": "vkka6f9ITn_8txwyHm__zlFAkV047qD6BRrqCzndv9MsErU9xrzqzu_a8OH0Rzmiv35XK_Y3l5F2zwLZMIPWHZnPxhYdcq0PfGbpxy0Wuoz2oYDeZwnC6jSAq2_ysb4cQM6tJMjko4UxtLHWtWUt-Fgeu1wHlEIeM374BOmezdA",
    "kid": "test-rs256",
    "alg": "RS256",
    "use": "sig"
  },
  {
    "kty": "EC",
    "x": "Uq3yINZ5L3dxFAIFA9U6JbNo2JmAlw9flLlP6OXLjDs",
    "y": "r7F1UH1d7F6ticMM8SDEh1Ibypt06Z59MdTOhnQLEuk",
    "crv": "P-256",
    "d": "rfRRTclgryAEEc0C4lmT5EfcJ4hptGF5861_sy-H8JI",
    "kid": "test-es256",
    "alg": "ES256",
    "use": "sig"
  }
];
