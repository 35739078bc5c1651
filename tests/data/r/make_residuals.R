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

# ar1(row):ar1(col): separable AR1 x AR1 over Wheat2's field grid (11 x 22,
# 18 plots missing), row and col the indices of latitude and longitude.
# nlme has no separable AR1 x AR1, so an independent dense REML: V = s2 *
# rho_r^|dr| * rho_c^|dc|, maximised with optim (BFGS, then Nelder-Mead polish).
# The log-likelihood is nlme's REML convention, checked here on the Gaussian
# nugget fit of boundaries/wheat2.json at nlme's estimates.
w <- read.csv("Wheat2.csv")
w$row <- match(w$latitude, sort(unique(w$latitude)))
w$col <- match(w$longitude, sort(unique(w$longitude)))
write.csv(w, "wheat2_grid.csv", row.names = FALSE, quote = FALSE)
X <- model.matrix(~ variety - 1, w); y <- w$yield; n <- nrow(X); p <- ncol(X)
reml <- function(V) {
  L <- chol(V); Xi <- backsolve(L, X, transpose = TRUE); yi <- backsolve(L, y, transpose = TRUE)
  XtViX <- crossprod(Xi); b <- solve(XtViX, crossprod(Xi, yi)); r <- yi - Xi %*% b
  -0.5 * ((n - p) * log(2 * pi) + 2 * sum(log(diag(L))) + determinant(XtViX)$modulus +
          sum(r^2))
}
D <- as.matrix(dist(w[c("latitude", "longitude")]))
g <- jsonlite::fromJSON("boundaries/wheat2.json")$fits$gaussian
Vg <- g$sigma2 * ((1 - g$nugget) * exp(-(D / g$range)^2)); diag(Vg) <- g$sigma2
stopifnot(abs(reml(Vg) - g$loglik) < 1e-8)
dr <- abs(outer(w$row, w$row, "-")); dc <- abs(outer(w$col, w$col, "-"))
V2 <- function(t) exp(t[1]) * tanh(t[2])^dr * tanh(t[3])^dc
f <- function(t) tryCatch(-reml(V2(t)), error = function(e) 1e10)
o <- optim(c(log(var(y)), 0.3, 0.3), f, method = "BFGS", control = list(reltol = 1e-15, maxit = 1000))
o <- optim(o$par, f, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 5000))
o <- optim(o$par, f, method = "BFGS", control = list(reltol = 1e-15, maxit = 1000))
grid_fit <- list(name = "wheat2_ar1_ar1", keyword = "ar1(row):ar1(col)", formula = "yield ~ variety - 1",
                 data = "wheat2_grid.csv", loglik = -o$value, sigma2 = exp(o$par[1]),
                 rho_row = tanh(o$par[2]), rho_col = tanh(o$par[3]), convergence = o$convergence)
out$fits[[length(out$fits) + 1]] <- grid_fit
out$ar1_ar1_method <- "independent dense REML (optim), nlme's REML log-likelihood convention"
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), "residual_keywords.json")
