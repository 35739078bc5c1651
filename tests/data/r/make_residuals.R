# References for the residual keywords of `--residual` (issue 21):
# nlme REML fits with the correlation and variance functions each keyword
# stands for. Run from tests/data: Rscript r/make_residuals.R
# Writes residual_keywords.json.
#
#   arh(visit | Subject) = corAR1(form = ~ visit | Subject) + varIdent(form = ~ 1 | visit)
#                         on Orthodont with visit = age/2 - 3 (1..4; written to
#                         orthodont_visits.csv). In age itself every lag is even and
#                         the score of ρ vanishes at the start ρ = 0 (both nlme's lme
#                         and our AI-REML stay there), so the test uses the visit index.
#   csh(age | Subject)  = corCompSymm(form = ~ 1 | Subject) + varIdent(form = ~ 1 | age)
# Both as gls (no random term).
# Variances per level: σ² δ_l² (nlme's varIdent ratios δ, δ of the first level 1).
suppressPackageStartupMessages({ library(nlme); library(jsonlite) })
o <- read.csv("nlme/Orthodont.csv", stringsAsFactors = TRUE)
o$Sex <- factor(o$Sex, levels = c("Female", "Male"))  # our reference level: the first in order
o$visit <- as.integer(o$age / 2 - 3)
write.csv(o[c("distance", "age", "visit", "Subject", "Sex")], "orthodont_visits.csv", row.names = FALSE, quote = FALSE)
ctl <- glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500)

level_vars <- function(m) {
  s2 <- m$sigma^2
  d <- coef(m$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  v <- s2 * d^2
  as.list(v)
}
corr <- function(m) unname(coef(m$modelStruct$corStruct, unconstrained = FALSE))
fit_out <- function(name, keyword, formula, random, m) {
  list(name = name, keyword = keyword, formula = formula, random = random,
       loglik = as.numeric(logLik(m)),
       beta = as.list(if (inherits(m, "lme")) fixef(m) else coef(m)),
       level_variances = level_vars(m), rho = corr(m),
       random_intercept_variance = if (inherits(m, "lme")) as.numeric(getVarCov(m)[1, 1]) else NULL)
}
fits <- list()
arh_cor <- function() corAR1(form = ~ visit | Subject)
csh_cor <- function() corCompSymm(form = ~ 1 | Subject)
vi <- function(t) varIdent(form = t)
fits[[1]] <- fit_out("orthodont_arh_gls", "arh(visit | Subject)", "distance ~ age + Sex", NULL,
  gls(distance ~ age + Sex, o, correlation = arh_cor(), weights = vi(~ 1 | factor(visit)), method = "REML", control = ctl))
fits[[2]] <- fit_out("orthodont_csh_gls", "csh(age | Subject)", "distance ~ age + Sex", NULL,
  gls(distance ~ age + Sex, o, correlation = csh_cor(), weights = vi(~ 1 | factor(age)), method = "REML", control = ctl))
out <- list(source = "tests/data/r/make_residuals.R", nlme = as.character(packageVersion("nlme")),
            R = R.version.string, method = "REML", fits = fits)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), "residual_keywords.json")
