// JavaScript entry points of the /dev/crypto engine (see src/kernel/bridge/devcrypto.ts for the
// typed wrapper and src/kernel/bridge/addon.ts for the signatures).
#pragma once

#include <napi.h>

namespace kcrypto {
class Addon;
}

namespace kcrypto::devcrypto {

// Adds openDevCrypto, devCryptoInfo, devCryptoFindDevice, devCryptoRunBatch,
// devCryptoAbiTable and devCryptoAbis to the addon's exports.
void Register(Napi::Env env, Napi::Object exports, Addon* addon);

}  // namespace kcrypto::devcrypto
