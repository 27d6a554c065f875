// PLACEHOLDER: commands of this module are registered here.
#include "commands.hpp"

namespace floodwarn::apps {

void AddRadarCommands(CLI::App& /*app*/, Commands& /*out*/) {}

}  // namespace floodwarn::apps
